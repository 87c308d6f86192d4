"""Logo pictures for the ledger: decoded once, small, the right way up.

Runs in the read workers (on all cores): the pixel count is checked from the header before Pillow
decodes anything; JPEG photos decode in draft mode straight to about the target size; EXIF orientation
is applied; 16-bit pictures are scaled to 8 bits; transparency keeps PNG, everything else becomes JPEG.

`decode_logos` is the one place a submission's logo is decoded: the merge keeps what it returns, validate
(and the Excel buttons' check) only its findings, so a picture the merge cannot use is never passed by
validate.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from toolkit.core.model import Finding, Logo

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from toolkit.core.model import Submission
    from toolkit.core.profile import Profile
    from toolkit.readers.limits import Limits

LOGO_BOX = (96, 72)  # pixels the logo may fill inside its ledger cell
ORIGINAL_SUFFIX = {"png": ".png", "jpeg": ".jpg", "gif": ".gif", "bmp": ".bmp", "webp": ".webp", "tiff": ".tif"}
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
DEFAULT_FIELD, DEFAULT_FORMATS = "标识", "PNG、JPG"

Stage = Callable[[bytes, str], None]  # (a logo's original bytes, its key): called before it is decoded


class LogoError(ValueError):
    """The picture cannot be used (empty, unrecognised, damaged, too many pixels). `rule` is the finding's
    rule; `text(field, formats)` says in Chinese what is wrong and what to do (str(): with a generic field)."""

    def __init__(self, variant: str, **params: Any) -> None:
        self.variant, self.params = variant, params
        self.rule = variant.split(".")[0]
        super().__init__(self.text())

    def text(self, field: str = DEFAULT_FIELD, formats: str = DEFAULT_FORMATS) -> str:
        from toolkit.core.messages import message

        return message(self.variant, field=field, formats=formats, **self.params)


def fit(width: int, height: int, box: tuple[int, int] = LOGO_BOX) -> tuple[int, int]:
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def normalize_logo(data: bytes, max_pixels: int, key: str, box: tuple[int, int] = LOGO_BOX) -> Logo:
    """The ledger thumbnail of a picture; LogoError when it cannot be used."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    from toolkit.readers.imageinfo import image_info

    fmt, w, h = image_info(data)
    if not data:
        raise LogoError("image_format.empty")
    if w and h and w * h > max_pixels:
        raise _too_large(w, h, max_pixels)
    Image.MAX_IMAGE_PIXELS = max_pixels
    scale = 2  # stored at twice the display size so it stays crisp on high-DPI screens
    target = (box[0] * scale, box[1] * scale)
    try:
        opened = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _too_large(w or 0, h or 0, max_pixels) from None
    except UnidentifiedImageError:
        raise _unrecognised(fmt) from None
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - Pillow's plugins raise anything on a malformed header
        raise LogoError("image_format.broken", format=_shown(fmt)) from None
    try:
        with opened:
            if opened.format == "JPEG":
                opened.draft("RGB", target)
            img = ImageOps.exif_transpose(opened) if opened.getexif().get(0x0112, 1) != 1 else opened
            img = _eight_bit(img)  # before resampling: Pillow resamples big-endian 16-bit data wrongly
            img.thumbnail(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
            transparent = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
            out = io.BytesIO()
            if transparent or fmt in ("png", "gif"):
                img.convert("RGBA" if transparent else "RGB").save(out, "PNG", optimize=False)
                out_fmt = "png"
            else:
                img.convert("RGB").save(out, "JPEG", quality=85)
                out_fmt = "jpeg"
            size = img.size
    except Image.DecompressionBombError:
        raise _too_large(w or 0, h or 0, max_pixels) from None
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - a header Pillow read, then data it could not: cut short or damaged
        # a format Pillow knows by name but has no decoder for here (EMF/WMF off Windows) is no damage
        known = (opened.format or "").lower() in ("wmf", "emf")
        raise (LogoError("image_format", format=_shown(fmt)) if known
               else LogoError("image_format.broken", format=_shown(fmt))) from None
    width, height = fit(*size, box)
    return Logo(out.getvalue(), out_fmt, width, height, key, fmt)


def _eight_bit(img: PILImage.Image) -> PILImage.Image:
    """16-bit (and 32-bit integer) greyscale as 8-bit "L": Pillow's own conversion clips every value
    above 255 to white instead of scaling, so a 16-bit scan would become a blank white square."""
    if img.mode in _SIXTEEN_BIT:
        img = img.convert("I")
        divisor = 257.0
    elif img.mode == "I":
        divisor = 257.0 if (img.getextrema()[1] or 0) > 255 else 1.0  # type: ignore[operator]
    else:
        return img
    info = {k: v for k, v in img.info.items() if k != "transparency"}  # a 16-bit key colour means nothing in 8 bits
    scaled = img.point(lambda v: v * (1.0 / divisor)).convert("L")  # type: ignore[operator,arg-type]
    scaled.info = info
    return scaled


def _shown(fmt: str) -> str:
    return "未知" if fmt == "unknown" else fmt.upper()


def _unrecognised(fmt: str) -> LogoError:
    """A picture Pillow cannot open: by its name when the header says what it is (HEIC, SVG, EMF), else
    an unrecognised format."""
    return LogoError("image_format.unknown") if fmt == "unknown" else LogoError("image_format", format=_shown(fmt))


def _too_large(width: int, height: int, max_pixels: int) -> LogoError:
    if not (width and height):  # Pillow knew the size, the header reader did not
        return LogoError("image_size.too_many", limit=f"{max_pixels / 1e6:g}")
    return LogoError("image_size.large", width=width, height=height,
                     megapixels=f"{width * height / 1e6:.1f}", limit=f"{max_pixels / 1e6:g}")


def logo_words(profile: Profile) -> tuple[str, str]:
    """(the logo field's name, the formats it accepts) as a LogoError's text names them."""
    spec = profile.logo_field
    if spec is None:
        return DEFAULT_FIELD, DEFAULT_FORMATS
    return spec.name, "、".join(f.upper() for f in spec.formats) or DEFAULT_FORMATS


def decode_logos(subs: list[Submission], profile: Profile, limits: Limits,
                 stage: Stage | None = None) -> list[Logo | None]:
    """Each submission's logo as its ledger thumbnail (None when it has none or it cannot be used), keyed
    by the file's sha256 and the submission's place in the file. A logo that cannot be used gets its
    finding (rule image_format or image_size, an error at the logo's cell) on its submission, in the
    same words for validate and merge. `stage(data, key)` is called before each decode (the merge
    writes the original meanwhile)."""
    spec = profile.logo_field
    field, formats = logo_words(profile)
    out: list[Logo | None] = []
    for n, sub in enumerate(subs):
        logo = None
        if sub.logo is not None and sub.logo.scheme != "attachment":
            key = f"{sub.provenance.sha256}-{n}"
            try:
                if stage is not None and sub.logo.data:
                    stage(sub.logo.data, key)
                logo = normalize_logo(sub.logo.data, limits.max_picture_pixels, key)
            except LogoError as exc:
                sub.findings.append(Finding(exc.rule, "error", exc.text(field, formats),
                                            field=spec.name if spec is not None else None,
                                            cell=f"{sub.logo.sheet}!{sub.logo.cell}"))
        out.append(logo)
    return out
