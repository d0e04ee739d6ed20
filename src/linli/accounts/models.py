"""One user model for everyone. Consumers are identified by phone (E.164).

What else a user may do comes from elsewhere: a merchant membership makes them
merchant owner or staff, a rider profile makes them a rider, `platform_role` makes
them an operator or support agent. Everybody can shop as a consumer.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from linli.core.fields import EncryptedTextField, LookupHashField, PublicIdField, lookup_hash
from linli.core.ids import new_public_id

from .phone import phone_for_lookup, phone_mask


class PlatformRole(models.TextChoices):
    NONE = "", "-"
    OPERATOR = "operator", "operator"
    SUPPORT = "support", "support"


def phone_hash(e164: str) -> str:
    """What every lookup by phone compares (`User.phone_hash`, `SmsCode.phone_hash`,
    `PhoneSale.phone_hash`): the phone itself is stored encrypted."""
    return lookup_hash(e164)


def username_new() -> str:
    """An opaque username for accounts made from a phone (SMS sign-up, staff added by
    phone): a username is shown and logged freely, so it must not be the phone number."""
    return new_public_id("u")


def is_platform_staff(user: User) -> bool:
    """An active operator or support agent (or Django staff): who may act in the back office
    and its APIs (moderation, arbitration, finance, platform analytics)."""
    return bool(user.is_active and (user.is_staff or user.platform_role in (PlatformRole.OPERATOR,
                                                                              PlatformRole.SUPPORT)))


def is_platform_operator(user: User) -> bool:
    """An active operator (or superuser): the platform-wide changes support agents may not make
    (issue 14): commission rules, settlement runs, payouts, holds, adjustments, suspending a
    merchant. Support reads the same screens and handles complaints, refunds and moderation."""
    return bool(user.is_active and (user.is_superuser or user.platform_role == PlatformRole.OPERATOR))


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(username=username, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("platform_role", PlatformRole.OPERATOR)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    public_id = PublicIdField(prefix="usr")
    username = models.CharField(max_length=64, unique=True)
    phone = EncryptedTextField(null=True, blank=True, hash_field="phone_hash",  # E.164, encrypted
                               hash_normalise=phone_for_lookup)
    phone_hash = LookupHashField(source="phone", unique=True, null=True, blank=True)
    display_name = models.CharField(max_length=64, blank=True)
    platform_role = models.CharField(
        max_length=16, choices=PlatformRole.choices, blank=True, default=PlatformRole.NONE
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)  # may open the operator back office
    date_joined = models.DateTimeField(default=timezone.now)
    # Bumped to revoke every JWT issued before (logout everywhere, password change).
    token_version = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "accounts_user"

    def __str__(self) -> str:
        return self.display_name or (phone_mask(self.phone) if self.phone else self.username)

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:
            kwargs["update_fields"] = {*update_fields, "phone_hash"}  # the hash follows the phone
        super().save(*args, **kwargs)


class SmsCode(models.Model):
    """A one-time login code. Only keyed hashes are stored: of the phone and of the code."""

    phone_hash = models.CharField(max_length=64, default="")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_sms_code"
        indexes = [models.Index(fields=["phone_hash", "-created_at"], name="sms_code_phone_recent")]


class Address(models.Model):
    """A consumer's saved delivery address (地址簿). The point is where the rider goes;
    `area` is what the gazetteer says is there ("黄浦区南京东路附近")."""

    class LocatedBy(models.TextChoices):
        DEVICE = "device"  # the consumer's own point (geolocation or typed coordinates)
        TEXT = "text"  # geocoded from the address text

    public_id = PublicIdField(prefix="adr")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=20, blank=True)  # 家, 公司, 学校
    # Encrypted at rest; lengths are checked by `services.address_create/_update`.
    contact_name = EncryptedTextField()
    contact_phone = EncryptedTextField()  # E.164
    text = EncryptedTextField()
    detail = EncryptedTextField(blank=True)  # building, floor, room
    lat = models.FloatField()
    lng = models.FloatField()
    located_by = models.CharField(max_length=8, choices=LocatedBy.choices)
    area = models.CharField(max_length=100, blank=True)
    city_code = models.CharField(max_length=16, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_address"
        ordering = ["-is_default", "-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-is_default"], name="address_user_default")]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(is_default=True),
                                    name="address_one_default_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.label or self.text}"


class MemberCodeKey(models.Model):
    """A member's secret for the dynamic member code (`accounts.member_code`). The row's
    id is the member index the code carries; `generation` moves on at every use, so the
    code shown after a scan is a new one even within the same 30-second step."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="member_code_key")
    secret = models.CharField(max_length=64)  # 32 random bytes, hex
    generation = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_member_code_key"


class MemberCodeUse(models.Model):
    """A member code that was accepted once. The unique (key, generation) makes a code
    single-use: two counters presenting it at the same moment insert the same pair and
    exactly one insert succeeds."""

    public_id = PublicIdField(prefix="mcu")
    key = models.ForeignKey(MemberCodeKey, on_delete=models.CASCADE, related_name="uses")
    generation = models.PositiveIntegerField()
    step = models.BigIntegerField()
    code = models.CharField(max_length=18, db_index=True)
    context = models.CharField(max_length=80, blank=True)  # who scanned it: "pos:sto_x:ctr_y"
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_member_code_use"
        constraints = [models.UniqueConstraint(fields=["key", "generation"], name="member_code_once")]


from .audit_models import AuditEntry  # noqa: E402,F401  (the audit log lives in accounts)
