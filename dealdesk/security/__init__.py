"""Who may keep a session and how it is proved: login throttling (django-axes), the approvers'
short idle session and TOTP two-factor (django-otp). See docs/deploy.md."""
