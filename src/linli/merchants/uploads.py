"""Image uploads (application documents, store photos): trust the bytes, not the name.

Pillow must recognise the content as JPEG, PNG or WebP and decode it completely; the
file name and the client's Content-Type are ignored. What is stored is not the client's
file but the image **re-encoded** from its decoded pixels, in the same format: EXIF and
every other metadata block go (a phone photo's EXIF carries the GPS position where it was
taken, the camera's serial number and the time: a consumer's review photo must not
publish where they live), the EXIF orientation is applied to the pixels first so the
picture stays upright, anything appended after the image data (a polyglot file) is
dropped, and the longest side is capped at MAX_STORED_SIDE pixels. Stored files get a name
we make up (`<prefix>_<random>.<ext>`) so nothing the client sent ends up in a path.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, DomainError, InvalidInput
from linli.core.ids import new_public_id

if TYPE_CHECKING:  # Pillow is imported by the first upload (~2 MB an app worker seldom needs)
    from PIL import Image

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a 5 MB file can still decode to gigabytes: refuse first
MAX_STORED_SIDE = 4096           # px; larger pictures are scaled down before they are stored
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


class InvalidImage(InvalidInput):
    code = "invalid_image"
    message = _("The file is not a JPEG, PNG or WebP image.")


class FileTooLarge(DomainError):
    code = "file_too_large"
    status = 413
    message = _("The file is larger than 5 MB.")


class TooManyFiles(Conflict):
    code = "too_many_files"
    message = _("No more files can be added here.")


@dataclass(frozen=True)
class CheckedImage:
    content_type: str
    extension: str
    size_bytes: int   # of what is stored (the re-encoded image)
    width: int
    height: int
    data: bytes = field(repr=False, default=b"")

    def file(self) -> ContentFile[bytes]:
        """The re-encoded image, to be saved instead of the upload."""
        return ContentFile(self.data)

    def storage_name(self, prefix: str) -> str:
        """A fresh name to store the file under (`<prefix>_<random>.<ext>`, the real
        extension); rows without a public id of their own use its stem as one."""
        return f"{new_public_id(prefix)}.{self.extension}"


def _reencode(image: Image.Image, kind: str) -> Image.Image:
    """Upright, metadata-free pixels in a mode the format can hold."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image) or image
    if max(image.size) > MAX_STORED_SIDE:
        image.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE))
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif kind in ("PNG", "WEBP") and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    return image


def _encoded(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    options: dict[str, object] = {"JPEG": {"quality": 90, "optimize": True},
                                  "PNG": {"optimize": True},
                                  "WEBP": {"quality": 90}}[kind]
    image.save(out, format=kind, **options)  # no exif=, no pnginfo=: metadata is not carried over
    return out.getvalue()


def image_check(*, upload: UploadedFile) -> CheckedImage:
    """The image's real type and size, re-encoded for storage (see the module docstring);
    InvalidImage or FileTooLarge if it will not do. Store `checked.file()`, never the upload."""
    from PIL import Image, UnidentifiedImageError

    size = upload.size or 0
    if size > MAX_IMAGE_BYTES:
        raise FileTooLarge(size_bytes=size, max_bytes=MAX_IMAGE_BYTES)
    if size == 0:
        raise InvalidImage(reason="empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as probe:
                kind = probe.format or ""
                width, height = probe.size
                if kind not in FORMATS:
                    raise InvalidImage(reason="format", format=kind)
                if width * height > MAX_IMAGE_PIXELS:
                    raise InvalidImage(reason="too_many_pixels", max_pixels=MAX_IMAGE_PIXELS)
                probe.verify()  # structure and checksums (PNG)
            upload.seek(0)
            with Image.open(upload) as image:
                image.load()  # decodes every pixel: catches truncated or corrupt data
                clean = _reencode(image, kind)
                data = _encoded(clean, kind)
                width, height = clean.size
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise InvalidImage(reason="unreadable") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # Pillow's decoder failures
        raise InvalidImage(reason="corrupt") from exc
    finally:
        upload.seek(0)
    content_type, extension = FORMATS[kind]
    return CheckedImage(content_type=content_type, extension=extension, size_bytes=len(data),
                        width=width, height=height, data=data)
