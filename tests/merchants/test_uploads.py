"""What is stored is the image re-encoded from its pixels: no EXIF (GPS, camera serial), no
PNG text chunks, nothing appended after the image data, orientation applied, size capped."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from linli.accounts.models import User
from linli.merchants import uploads
from linli.merchants.models import StorePhoto
from tests.fixtures import make_store, token_api
from tests.merchants.test_onboarding import upload

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _jpeg_with_exif(size=(40, 20), orientation=6) -> bytes:
    image = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation          # "rotate 90° clockwise to display"
    exif[0x010F] = "PhoneMaker"              # Make
    exif[0xA431] = "SERIAL-12345"            # BodySerialNumber
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 13.0, 30.0), 3: "E", 4: (121.0, 28.0, 10.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _check(content: bytes, name: str = "a.jpg") -> uploads.CheckedImage:
    return uploads.image_check(upload=SimpleUploadedFile(name, content, content_type="image/jpeg"))


def test_the_upload_really_carries_exif():  # the fixture is what a phone sends, or the tests below prove nothing
    with Image.open(io.BytesIO(_jpeg_with_exif())) as raw:
        exif = raw.getexif()
        assert exif[ORIENTATION] == 6 and exif.get_ifd(GPS_IFD) and b"SERIAL-12345" in _jpeg_with_exif()


def test_exif_and_gps_are_gone_and_the_orientation_is_applied():
    checked = _check(_jpeg_with_exif(size=(40, 20)))
    assert b"SERIAL-12345" not in checked.data and b"PhoneMaker" not in checked.data
    with Image.open(io.BytesIO(checked.data)) as stored:
        assert stored.format == "JPEG"
        assert not stored.getexif() and not stored.getexif().get_ifd(GPS_IFD)
        assert stored.size == (20, 40)          # turned upright: what the phone showed
    assert (checked.width, checked.height) == (20, 40) and checked.size_bytes == len(checked.data)


def test_png_text_chunks_and_appended_bytes_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home: 12 Nanjing Road")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(out, format="PNG", pnginfo=info)
    polyglot = out.getvalue() + b"<script>alert(1)</script>"
    checked = _check(polyglot, name="a.png")
    assert checked.content_type == "image/png"
    assert b"Nanjing" not in checked.data and b"<script>" not in checked.data
    with Image.open(io.BytesIO(checked.data)) as stored:
        assert stored.mode == "RGBA" and "Comment" not in stored.info


def test_huge_pictures_are_scaled_down_keeping_the_aspect_ratio(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_STORED_SIDE", 64)
    out = io.BytesIO()
    Image.new("RGB", (256, 128), (1, 2, 3)).save(out, format="WEBP")
    checked = _check(out.getvalue(), name="a.webp")
    assert (checked.width, checked.height) == (64, 32)
    with Image.open(io.BytesIO(checked.data)) as stored:
        assert stored.format == "WEBP" and stored.size == (64, 32)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_store_photo_is_stored_without_its_exif(media):
    owner = User.objects.create_user("owner-exif")
    shop = make_store(owner=owner)
    owner_api = token_api(owner)
    response = upload(owner_api, f"/merchant/stores/{shop.public_id}/photos", _jpeg_with_exif(),
                      name="门头.jpg", content_type="image/jpeg")
    assert response.status_code == 201, response.content
    photo = StorePhoto.objects.get()
    stored = photo.image.read()
    assert stored[:2] == b"\xff\xd8" and b"SERIAL-12345" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and image.size == (20, 40)
