"""CSV cells a spreadsheet cannot run as formulas (OWASP "CSV injection"), reversibly.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `=cmd|...`,
`@SUM(...)`); any ingest key can store such text as a comment, tag or respondent id. Every
CSV the service writes passes its text cells (never its numbers) through `neutralise`,
which puts a single quote in front, as OWASP recommends. A value that already starts with
a quote gets one more, so the rule is exactly reversible: `restore` (used by `import`)
drops one leading quote from any text cell that has one.

    =SUM(1)   is written  '=SUM(1)    and read back  =SUM(1)
    '=SUM(1)  is written  ''=SUM(1)   and read back  '=SUM(1)
    'quoted   is written  ''quoted    and read back  'quoted
"""

# What a spreadsheet reads as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# Cells that get the quote: formulas, and text that starts with the quote itself.
ESCAPED_START = frozenset((*FORMULA_START, QUOTE))


def neutralise(text: str) -> str:
    """The cell to write for a text value."""
    return QUOTE + text if text[:1] in ESCAPED_START else text


def neutralise_cell(value: object) -> object:
    """`neutralise` for text; anything else (numbers, None) unchanged."""
    return neutralise(value) if isinstance(value, str) else value


def restore(cell: str) -> str:
    """The text value a written cell stands for (the inverse of `neutralise`)."""
    return cell[1:] if cell.startswith(QUOTE) else cell
