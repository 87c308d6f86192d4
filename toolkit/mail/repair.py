"""Raw-byte repairs for mails that clients write slightly wrong, made before (or after a first) parse.

The stdlib parser ends a header block at the first line that is neither a header nor a folded
continuation (MissingHeaderBodySeparatorDefect): Content-Type and every header after it become body
text and every attachment is lost. `repair_headers` mends such lines in every header block (the mail's
own and each MIME part's) so a second parse reads them.
"""

from __future__ import annotations

import re

_BOM = b"\xef\xbb\xbf"
_LEADING_BLANKS = re.compile(rb"(?:[ \t]*\r?\n)+")
# what the stdlib feedparser accepts as a header line (email.feedparser.headerRE)
_HEADER_LINE = re.compile(rb"(?:From |[\041-\071\073-\176]*:|[\t ])")
# `X-Mailer Foxmail 7.2`: a header whose colon is missing (a hyphenated name or a common one-word name)
_COLONLESS = re.compile(rb"([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+|From|To|Cc|Bcc|Subject|Date|Sender|Received)"
                        rb"[ \t]+(\S.*)", re.I | re.S)
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))', re.I)


def strip_lead(data: bytes) -> bytes:
    """The mail without a UTF-8 BOM and blank lines before its first header (both end the headers at once)."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    lead = _LEADING_BLANKS.match(data)
    return data[lead.end():] if lead else data


def repair_headers(data: bytes) -> bytes:
    """Mend colon-less lines in every header block (before its first blank line): `Token value` with a
    header-like name gets its colon back; any other such line is a continuation folded without
    whitespace and is joined to the header before it, as the sender's client meant."""
    delimiters = {b"--" + (m.group(1) or m.group(2)) for m in _BOUNDARY.finditer(data)}
    out: list[bytes] = []
    in_block, block_has_header = True, False  # the mail's own header block starts at the top
    for line in data.splitlines(keepends=True):
        bare = line.rstrip(b"\r\n")
        if not in_block:
            if bare.rstrip() in delimiters:  # a part's header block follows its delimiter line
                in_block, block_has_header = True, False
        elif not bare:
            in_block = False
        elif not _HEADER_LINE.match(bare):
            named = _COLONLESS.fullmatch(bare)
            if named:
                line = named.group(1) + b": " + named.group(2) + line[len(bare):]
            elif block_has_header:
                out[-1] = out[-1].rstrip(b"\r\n")
            block_has_header = True
        else:
            block_has_header = True
        out.append(line)
    return b"".join(out)
