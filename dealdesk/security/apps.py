from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class SecurityConfig(AppConfig):
    name = "dealdesk.security"
    label = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        from dealdesk.security.sessions import remember_login_facts

        user_logged_in.connect(remember_login_facts, dispatch_uid="dealdesk.security.login")
