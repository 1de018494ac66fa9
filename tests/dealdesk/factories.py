from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from dealdesk.models import Account, Contact, Deal, DealLine, DealPattern, Product
from dealdesk.pricing import net_unit_price


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-only")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    crm_id = factory.Sequence(lambda n: f"001T{n:011d}")
    name = factory.Faker("company")
    legal_name = factory.LazyAttribute(lambda a: f"{a.name} Inc.")
    billing_street = "1 Main St"
    billing_city = "Springfield"
    billing_country = "United States"
    billing_email = "ap@example.com"
    currency = "USD"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Faker("email")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.LazyAttribute(lambda p: f"Product {p.sku}")
    kind = Product.Kind.SUBSCRIPTION
    billing_interval = Product.Interval.YEAR
    list_price = Decimal("12000")
    floor_price = Decimal("9000")
    currency = "USD"


class DealFactory(factory.django.DjangoModelFactory):
    """A deal created straight in the database (tests of services start from here)."""

    class Meta:
        model = Deal

    crm_id = factory.Sequence(lambda n: f"006T{n:011d}")
    name = factory.Sequence(lambda n: f"Deal {n}")
    account = factory.SubFactory(AccountFactory)
    owner = factory.SubFactory(UserFactory, roles=["Sales"])
    currency = "USD"
    start_date = date(2026, 1, 1)
    term_months = 12
    billing_frequency = "annual"


class DealLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealLine

    deal = factory.SubFactory(DealFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal(1)
    list_unit_price = factory.LazyAttribute(lambda line: line.product.list_price)
    discount_pct = Decimal(0)
    net_unit_price = factory.LazyAttribute(
        lambda line: net_unit_price(line.list_unit_price, line.discount_pct)
    )


def pattern(code: str) -> DealPattern:
    return DealPattern.objects.get(code=code)
