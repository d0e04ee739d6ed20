"""Password hashing: Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

Django's own Argon2 settings (100 MiB, 2 passes, 8 lanes) make every password login
allocate 100 MB: an app worker's peak memory went from ~165 to ~265 MB on one login, and
eight logins at once on one worker's threads would ask for 800 MB, an easy way to push
a small server into swap. OWASP's Password Storage Cheat Sheet gives m=19 MiB, t=2, p=1
as a minimum configuration for Argon2id; brute-force cost per guess stays memory-hard.

The algorithm name stays "argon2": hashes made with the old settings still verify, and
Django re-hashes them with these on the next successful login (`must_update`).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1
