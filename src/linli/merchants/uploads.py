"""Image uploads (application documents, store photos): trust the bytes, not the name.

Pillow must recognise the content as JPEG, PNG or WebP and decode it completely; the
file name and the client's Content-Type are ignored. Stored files get a name we make
up (`<prefix>_<random>.<ext>`) so nothing the client sent ends up in a path.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from linli.core.errors import Conflict, DomainError, InvalidInput
from linli.core.ids import new_public_id

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a 5 MB file can still decode to gigabytes: refuse first
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
    size_bytes: int
    width: int
    height: int

    def storage_name(self, prefix: str) -> str:
        """A fresh name to store the file under (`<prefix>_<random>.<ext>`, the real
        extension); rows without a public id of their own use its stem as one."""
        return f"{new_public_id(prefix)}.{self.extension}"


def image_check(*, upload: UploadedFile) -> CheckedImage:
    """The image's real type and size; InvalidImage or FileTooLarge if it will not do.
    Leaves the upload rewound so it can be saved as it came."""
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
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise InvalidImage(reason="unreadable") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # Pillow's decoder failures
        raise InvalidImage(reason="corrupt") from exc
    finally:
        upload.seek(0)
    content_type, extension = FORMATS[kind]
    return CheckedImage(content_type=content_type, extension=extension, size_bytes=size,
                        width=width, height=height)
