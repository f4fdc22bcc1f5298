"""Finding and reading customers, and updating their default address."""

from __future__ import annotations

import unicodedata

from pydantic import Field
from sqlalchemy import func, select

from commerce.models import Customer
from tools.base import ErrorCode, ToolArgs, ToolContext, ToolError, ToolKind, ToolResult, tool
from tools.views import Address, CustomerView, address_of_customer, customer_view


class FindCustomerByEmailArgs(ToolArgs):
    email: str = Field(min_length=3, max_length=254, description="The customer's email address.")


class FindCustomerByNamePostalCodeArgs(ToolArgs):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20, description="Postal or zip code of the customer's address.")


class CustomerFound(ToolResult):
    customer_id: str


class GetCustomerArgs(ToolArgs):
    customer_id: str = Field(min_length=1, max_length=64)


class UpdateCustomerAddressArgs(ToolArgs):
    customer_id: str = Field(min_length=1, max_length=64)
    address: Address


class CustomerAddressUpdated(ToolResult):
    customer_id: str
    address: Address


def _normalise_postal_code(code: str) -> str:
    return code.replace(" ", "").replace("-", "").upper()


@tool(
    kind=ToolKind.READ,
    target="lookup",
    gerund="looking up a customer by email",
    noun="Customer look-ups",
)
def find_customer_by_email(context: ToolContext, args: FindCustomerByEmailArgs) -> CustomerFound:
    """Find a customer's id by their email address. Use it to verify who the customer is."""
    customer = context.session.scalars(
        select(Customer).where(func.lower(Customer.email) == args.email.lower()).order_by(Customer.id)
    ).first()
    if customer is None:
        raise ToolError(ErrorCode.NOT_FOUND, "No customer has this email address.")
    return CustomerFound(customer_id=customer.id)


@tool(
    kind=ToolKind.READ,
    target="lookup",
    gerund="looking up a customer by name and postal code",
    noun="Customer look-ups",
)
def find_customer_by_name_postal_code(context: ToolContext, args: FindCustomerByNamePostalCodeArgs) -> CustomerFound:
    """Find a customer's id by first name, last name and postal code, when they do not remember their email."""
    wanted = _normalise_postal_code(args.postal_code)
    # Postal codes are ASCII, so the database compares them; names are compared here, because
    # SQL's lower() leaves Cyrillic, Greek and accented capitals as they are ("Дмитрий", "Élodie").
    stored_code = func.upper(func.replace(func.replace(Customer.postal_code, " ", ""), "-", ""))
    candidates = context.session.scalars(select(Customer).where(stored_code == wanted).order_by(Customer.id)).all()
    first, last = _normalise_name(args.first_name), _normalise_name(args.last_name)
    for customer in candidates:
        if _normalise_name(customer.first_name) == first and _normalise_name(customer.last_name) == last:
            return CustomerFound(customer_id=customer.id)
    raise ToolError(ErrorCode.NOT_FOUND, "No customer matches this name and postal code.")


def _normalise_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


@tool(
    kind=ToolKind.READ,
    target="customer",
    gerund="reading a customer profile",
    noun="Profile reads",
    model_visible=True,
)
def get_customer(context: ToolContext, args: GetCustomerArgs) -> CustomerView:
    """Get a customer's profile: name, email, default address, language, VIP status, payment methods and order ids."""
    return customer_view(context.customer(args.customer_id))


@tool(
    kind=ToolKind.WRITE,
    target="customer",
    gerund="updating the customer's saved address",
    noun="Address updates",
    rule="update_customer_address",
    consent=True,
)
def update_customer_address(context: ToolContext, args: UpdateCustomerAddressArgs) -> CustomerAddressUpdated:
    """Change a customer's default address (orders already placed keep theirs)."""
    customer = context.customer(args.customer_id)
    a = args.address
    customer.address1, customer.address2, customer.city = a.address1, a.address2, a.city
    customer.state, customer.postal_code, customer.country = a.state, a.postal_code, a.country
    if a.country_code:
        customer.country_code = a.country_code.upper()
    return CustomerAddressUpdated(customer_id=customer.id, address=address_of_customer(customer))
