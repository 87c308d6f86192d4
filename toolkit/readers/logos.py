"""Logo pictures for the ledger: decoded once, small, the right way up.

Runs in the read workers (on all cores): the pixel count is checked from the header before Pillow
decodes anything; JPEG photos decode in draft mode straight to about the target size; EXIF orientation
is applied; transparency keeps PNG, everything else becomes JPEG.
"""

from __future__ import annotations

import io

from toolkit.core.model import Logo

LOGO_BOX = (96, 72)  # pixels the logo may fill inside its ledger cell
ORIGINAL_SUFFIX = {"png": ".png", "jpeg": ".jpg", "gif": ".gif", "bmp": ".bmp", "webp": ".webp", "tiff": ".tif"}




class LogoError(ValueError):
    """The picture cannot be used (too many pixels, undecodable); the message is Chinese."""


def fit(width: int, height: int, box: tuple[int, int] = LOGO_BOX) -> tuple[int, int]:
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def normalize_logo(data: bytes, max_pixels: int, key: str, box: tuple[int, int] = LOGO_BOX) -> Logo:
    from PIL import Image, ImageOps

    from toolkit.readers.imageinfo import image_info

    fmt, w, h = image_info(data)
    if w and h and w * h > max_pixels:
        raise LogoError(f"标识图片 {w}×{h} 像素，超过 {max_pixels // 1_000_000} 百万像素上限，请缩小后重新提交")
    Image.MAX_IMAGE_PIXELS = max_pixels
    scale = 2  # stored at twice the display size so it stays crisp on high-DPI screens
    target = (box[0] * scale, box[1] * scale)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format == "JPEG":
                opened.draft("RGB", target)
            img = ImageOps.exif_transpose(opened) if opened.getexif().get(0x0112, 1) != 1 else opened
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
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise LogoError(f"标识图片无法解码（{type(exc).__name__}），请另存为 PNG 或 JPG 后重新提交") from exc
    width, height = fit(*size, box)
    return Logo(out.getvalue(), out_fmt, width, height, key, fmt)
