// Platform hardening lives here.
