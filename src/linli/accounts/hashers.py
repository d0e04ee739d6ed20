"""Password hashing: Argon2id in OWASP's least-memory configuration (7 MiB, 5 passes, 1 lane).

Django's own Argon2 settings (100 MiB, 2 passes, 8 lanes) make every password login
allocate 100 MB: an app worker's peak memory went from ~165 to ~265 MB on one login, and
eight logins at once on one worker's threads would ask for 800 MB, an easy way to push
a small server into swap. OWASP's Password Storage Cheat Sheet lists five Argon2id
configurations as equally strong: m=46 MiB t=1, 19 MiB t=2, 12 MiB t=3, 9 MiB t=4 and
7 MiB t=5 (p=1 each), trading memory for passes. An app worker hashes on its request
threads, next to everything else it holds, so we take the last: each login's transient
allocation is 7 MiB instead of 19 (the app worker's memory budget is 150 MB,
docs/scaling.md), at the same cost per guess for an attacker as the others.

The algorithm name stays "argon2": hashes made with other settings still verify, and
Django re-hashes them with these on the next successful login (`must_update`).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    memory_cost = 7 * 1024  # KiB
    time_cost = 5
    parallelism = 1
