import numpy as np
import numpy.typing as npt

def hashed_counts(text: str, dim: int, ngram_min: int, ngram_max: int) -> npt.NDArray[np.int32]: ...
