"""Every picture a submission carries, with the cell it is anchored at, and the choice of the logo.

`find_pictures` dispatches on the sniffed file kind to one reader per storage scheme family
(pictures_xlsx, pictures_xls, pictures_ods). The input is untrusted: readers never raise on a malformed
file, they return the pictures they could find. The readers are imported lazily because they pull in
lxml/olefile, which the CLI must not pay for at start-up.
"""

from __future__ import annotations

import zipfile

from toolkit.core.model import Picture, PictureScheme
from toolkit.readers.imageinfo import image_info

MAX_MEDIA_BYTES = 64 * 1024 * 1024  # total picture bytes read from one file; beyond this, skip
LOGO_MAX_DISTANCE = 3  # rows/cols outside the value block; a seal scan near the signatures is farther


class MediaBudget:
    """Caps the picture bytes read from one file, so a zip of huge media cannot exhaust memory."""

    def __init__(self, limit: int = MAX_MEDIA_BYTES) -> None:
        self.left = limit

    def take(self, size: int) -> bool:
        """Reserve `size` bytes; False (and nothing reserved) when the budget cannot cover them."""
        if size < 0 or size > self.left:
            return False
        self.left -= size
        return True


def make_picture(sheet: str, row: int, col: int, scheme: PictureScheme, data: bytes, name: str = "") -> Picture:
    fmt, width, height = image_info(data)
    return Picture(sheet=sheet, row=max(row, 0), col=max(col, 0), scheme=scheme, format=fmt,
                   width=width, height=height, data=data, name=name)


def linked_picture(sheet: str, row: int, col: int, scheme: PictureScheme, target: str) -> Picture:
    """A picture that only links to a file or URL outside the package (never fetched): `name` holds
    the link, `data` is empty."""
    return Picture(sheet=sheet, row=row, col=col, scheme=scheme, format="link", width=None, height=None,
                   data=b"", name=target)


def find_pictures(data: bytes, kind: str, package: zipfile.ZipFile | None = None,
                  linked: list[Picture] | None = None) -> list[Picture]:
    """All pictures in a workbook: kind is "xlsx"/"xlsm", "xlsb", "xls" (also WPS .et) or "ods". `package`: the
    file's zip (xlsx, ods), when the caller has opened it already. `linked` receives the pictures that
    only link to outside files (xlsx), when given."""
    kind = kind.lower().lstrip(".")
    if kind in ("xlsx", "xlsm", "xlsb"):
        from toolkit.readers.pictures_xlsx import find_xlsx_pictures

        return find_xlsx_pictures(data, package, linked)
    if kind in ("xls", "et"):
        from toolkit.readers.pictures_xls import find_xls_pictures

        return find_xls_pictures(data)
    if kind == "ods":
        from toolkit.readers.pictures_ods import find_ods_pictures

        return find_ods_pictures(data, package)
    return []


def choose_logo(pictures: list[Picture], sheet: str, row: int, col: int,
                last_row: int | None = None, last_col: int | None = None) -> Picture | None:
    """The picture anchored in the value cell (or merged block row..last_row x col..last_col), else the
    nearest one right of / below the block's top-left within LOGO_MAX_DISTANCE rows/cols of the block.

    Pictures up-left of the value cell sit over the label area and are not taken; pictures farther away
    (a seal or signature scan at the bottom of the form) are never taken.
    """
    return logo_candidates(pictures, sheet, row, col, last_row, last_col)[0]


def logo_candidates(pictures: list[Picture], sheet: str, row: int, col: int, last_row: int | None = None,
                    last_col: int | None = None) -> tuple[Picture | None, list[Picture]]:
    """(choose_logo's picture, the other pictures as close to the value block as it, in drawing order):
    when there are any, the logo was one of several the branch put there, and is said to be. A picture
    showing the same image as the logo (one file behind two anchors) is no rival."""
    last_row = row if last_row is None else max(last_row, row)
    last_col = col if last_col is None else max(last_col, col)
    best: tuple[int, int, int, int] | None = None
    chosen: Picture | None = None
    near: list[tuple[int, Picture]] = []
    for i, pic in enumerate(pictures):
        if pic.sheet != sheet or pic.row < row or pic.col < col:
            continue
        distance = max(pic.row - last_row, pic.col - last_col, 0)
        if distance > LOGO_MAX_DISTANCE:
            continue
        near.append((distance, pic))
        key = (distance, pic.row, pic.col, i)
        if best is None or key < best:
            best, chosen = key, pic
    if chosen is None or best is None:
        return None, []
    rivals = [p for d, p in near if d == best[0] and p is not chosen and p.data != chosen.data]
    return chosen, rivals
