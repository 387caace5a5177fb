"""The layouts of every document family: one function per class draws a page on a `render.Doc` from two
random streams, `lr` (the layout: structure, fonts, order, language) and `r` (the instance: values),
and a seeded Faker `f` (the content). `generator.generate` chooses the family and seeds the streams.

- blocks.py: what the families share (Faker, dates, line items, header, footer, extra phrases, MRZ);
- finance.py: invoice (and its look-alikes), receipt, bank statement, payslip, utility bill;
- personal.py: identity document, tax form, letter;
- other.py: the genres of `other` (look-alikes, unrelated pages, held-out types, raster pages).
"""
