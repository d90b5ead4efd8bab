from __future__ import annotations

import factory

from kefu.customers.models import Contact, Customer


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer
        skip_postgeneration_save = True  # the hook adds a contact; the customer is unchanged

    name = factory.Sequence(lambda n: f"测试客户{n}有限公司")
    kind = Customer.Kind.COMPANY
    region = "上海市"
    mobile = factory.Sequence(lambda n: f"+86138{n:08d}")

    @factory.post_generation
    def primary_contact(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and self.mobile:
            Contact.objects.create(
                customer=self, name="联系人", mobile=self.mobile, is_primary=True
            )
