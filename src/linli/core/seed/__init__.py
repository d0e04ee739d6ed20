"""Demo data for `linli seed`: a believable city of merchants, consumers and riders.

Pure parts (no Django): `cities`, `names`, `kinds`, `menus` (data tables) and `plan`
(draws everything random from one seeded generator). Django parts: `writer` (bulk
inserts), `demo` (the fixed demo accounts) and `run` (the whole command).
"""
