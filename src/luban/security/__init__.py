"""Security: envelope encryption of artifacts at rest, and roles (RBAC) on every operation. See docs/security.md."""
