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

from linli.core.fields import PublicIdField


class PlatformRole(models.TextChoices):
    NONE = "", "-"
    OPERATOR = "operator", "operator"
    SUPPORT = "support", "support"


def is_platform_staff(user: User) -> bool:
    """An active operator or support agent (or Django staff): who may act in the back office
    and its APIs (moderation, arbitration, finance, platform analytics)."""
    return bool(user.is_active and (user.is_staff or user.platform_role in (PlatformRole.OPERATOR,
                                                                              PlatformRole.SUPPORT)))


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
    phone = models.CharField(max_length=20, unique=True, null=True, blank=True)
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
        return self.display_name or self.phone or self.username


class SmsCode(models.Model):
    """A one-time login code. Only its keyed hash is stored."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_sms_code"
        indexes = [models.Index(fields=["phone", "-created_at"])]


class Address(models.Model):
    """A consumer's saved delivery address (地址簿). The point is where the rider goes;
    `area` is what the gazetteer says is there ("黄浦区南京东路附近")."""

    class LocatedBy(models.TextChoices):
        DEVICE = "device"  # the consumer's own point (geolocation or typed coordinates)
        TEXT = "text"  # geocoded from the address text

    public_id = PublicIdField(prefix="adr")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=20, blank=True)  # 家, 公司, 学校
    contact_name = models.CharField(max_length=50)
    contact_phone = models.CharField(max_length=20)  # E.164
    text = models.CharField(max_length=200)
    detail = models.CharField(max_length=100, blank=True)  # building, floor, room
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
