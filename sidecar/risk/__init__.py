"""Risk control: acceptance rules proven to hold a silent-failure rate, audits, recalibration."""

from sidecar.risk.audit import AuditEstimate, AuditEstimator, AuditSampler, estimate
from sidecar.risk.bounds import clopper_pearson, clopper_pearson_lower, clopper_pearson_upper, risk_p_value
from sidecar.risk.ltt import CalibrationRecord, data_digest, evaluate, fit_rule
from sidecar.risk.recalibrate import Recalibration, ResolvedItem, recalibrate, representative_sample
from sidecar.risk.rule import NEVER, AcceptanceRule, PredictionFeatures, apply_rule, deferring

__all__ = [
    "NEVER",
    "AcceptanceRule",
    "AuditEstimate",
    "AuditEstimator",
    "AuditSampler",
    "CalibrationRecord",
    "PredictionFeatures",
    "Recalibration",
    "ResolvedItem",
    "apply_rule",
    "clopper_pearson",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "data_digest",
    "deferring",
    "estimate",
    "evaluate",
    "fit_rule",
    "recalibrate",
    "representative_sample",
    "risk_p_value",
]
