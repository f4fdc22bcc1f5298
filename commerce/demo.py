"""Demo data for the order store: a cross-border seller's year of trade, seeded and repeatable.

``generate_demo_data`` wipes the store and writes customers in 16 countries, a catalogue,
warehouses and stock, orders from four marketplaces with payments, shipments and tracking,
returns and exchanges, and a known number of the cases support deals with every day
(parcels stuck in customs, stalled or late parcels, damaged or missing deliveries, wrong
variants, duplicate orders, oversold stock, parcels returned to sender).

Everything comes from ``random.Random(seed)`` and the reference instant ``now``: the same
seed and ``now`` always write the same rows. What it draws from (countries with their names and
addresses, the catalogue, warehouses and carriers, the carriers' wording of tracking scans, the mix
of orders and the exception monitor's cases) is in the data files ``commerce/data/demo_*.yaml``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from sqlalchemy.orm import Session

from commerce.carriers import CARRIERS, Carrier, status_after
from commerce.db import Store
from commerce.models import (
    Base,
    Coupon,
    Customer,
    Exchange,
    Marketplace,
    Order,
    OrderItem,
    OrderStatus,
    PaymentKind,
    PaymentMethod,
    PaymentTransaction,
    Product,
    ProductIssue,
    Refund,
    RefundDestination,
    ReturnRequest,
    ServiceLevel,
    Shipment,
    ShipmentStatus,
    StockLevel,
    TrackingCode,
    TrackingEvent,
    TransactionKind,
    TransactionStatus,
    Variant,
    Warehouse,
)
from commerce.money import convert, round_money

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["REFERENCE_NOW", "DemoSummary", "generate_demo_data", "seed_exceptions"]

# A fixed instant, so the same seed gives the same data whatever the wall clock says.
REFERENCE_NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)

STALL_AFTER = dt.timedelta(days=3)  # no scan for longer than this while in transit counts as stalled
# Of the parcels on their way, the share whose label is printed but which the carrier has not picked up yet.
WAITING_FOR_PICKUP = 0.1
LABEL_AFTER_ORDER = dt.timedelta(minutes=20)
ORDERS_PER_WRITE = 1000  # orders per unit of work
ORDERS_PER_FLUSH = 100  # orders between progress reports
EXCEPTIONS_FROM_ORDERS = 1000  # smallest shop that gets the exception monitor's extra cases

ZERO = Decimal("0")

T = TypeVar("T")
K = TypeVar("K")


@dataclass
class DemoSummary:
    """Counts of what was written, and of each problem case planted in the data."""

    customers: int
    orders: int
    products: int
    variants: int
    warehouses: int
    shipments: int
    tracking_events: int
    countries: list[str]
    marketplaces: list[str]
    carriers: list[str]
    currencies: list[str]
    messy: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- reference tables

# The tables live in data/demo_*.yaml; each file is read once and checked as it is turned into the
# typed tables below (a number or a boolean where text belongs is an error, not a silent coercion).
DATA_DIR = Path(__file__).parent / "data"
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _data(name: str) -> dict[str, Any]:
    """The data file ``data/demo_<name>.yaml``, read once."""
    path = DATA_DIR / f"demo_{name}.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # a safe loader: no object construction
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def _bad(expected: str, value: object) -> TypeError:
    return TypeError(f"demo data: expected {expected}, got {value!r}")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _bad("text (quote it in the YAML file)", value)
    return value


def _number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad("a whole number", value)
    return value


def _amount(value: object) -> Decimal:
    """An exact amount or rate, written as a quoted string so YAML never reads it as a float."""
    return Decimal(_text(value))


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise _bad("a list", value)
    return value


def _mapping(value: object) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise _bad("a mapping", value)
    return value


def _texts(value: object) -> tuple[str, ...]:
    return tuple(_text(item) for item in _list(value))


def _numbers(value: object) -> tuple[int, ...]:
    return tuple(_number(item) for item in _list(value))


# How a field of each declared type is read from a data file.
_READERS: dict[str, Callable[[object], object]] = {
    "str": _text,
    "int": _number,
    "Decimal": _amount,
    "tuple[str, ...]": _texts,
    "tuple[int, ...]": _numbers,
}


def _fields(cls: type[DataclassInstance], raw: dict[Any, Any], **given: object) -> dict[str, Any]:
    """The fields of dataclass ``cls`` found in ``raw``, each read as its declared type, and the ``given`` ones as they are."""
    return {
        f.name: given[f.name] if f.name in given else _READERS[str(f.type)](raw[f.name])
        for f in fields(cls)
        if f.name in given or f.name in raw
    }


def _weights(value: object, key: Callable[[Any], K]) -> tuple[tuple[K, int], ...]:
    """A ``{option: weight}`` mapping as the ``(option, weight)`` pairs ``_weighted`` draws from, in file order."""
    return tuple((key(option), _number(weight)) for option, weight in _mapping(value).items())


def _text_weights(value: object) -> tuple[tuple[str, int], ...]:
    return _weights(value, _text)


def _number_weights(value: object) -> tuple[tuple[int, int], ...]:
    return _weights(value, _number)


@dataclass(frozen=True)
class _City:
    name: str
    state: str
    postal: tuple[str, ...]  # patterns: '#' any digit, '%' 1-9, '@' a letter valid in the country's codes
    phone_area: str = ""


@dataclass(frozen=True)
class _Country:
    code: str
    name: str
    language: str
    currency: str
    weight: int
    tax_rate: Decimal
    cities: tuple[_City, ...]
    streets: tuple[str, ...]
    address: str  # "{n}" house number, "{s}" street
    numbers: tuple[str, ...]
    address2: tuple[str, ...]
    phones: tuple[str, ...]  # "{area}" is the city's area code
    male: tuple[str, ...]
    female: tuple[str, ...]
    last: tuple[str, ...]  # "male|female" where the surname changes; "display/ascii" for other scripts
    ip_blocks: tuple[int, ...]
    letters: str
    card_brands: tuple[str, ...]
    markets: tuple[tuple[Marketplace, int], ...]


def _codes(prefix: str, low: int, high: int, width: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{n:0{width}d}" for n in range(low, high + 1))


def _city(raw: dict[Any, Any]) -> _City:
    if "postal_range" in raw:
        span = _mapping(raw["postal_range"])
        postal = _codes(_text(span["prefix"]), _number(span["first"]), _number(span["last"]), _number(span["width"]))
    else:
        postal = _texts(raw["postal"])
    return _City(**_fields(_City, raw, postal=postal))


def _load_countries() -> tuple[_Country, ...]:
    data = _data("countries")
    defaults = _mapping(data["defaults"])
    mixes = {_text(name): _weights(mix, Marketplace) for name, mix in _mapping(data["market_mixes"]).items()}
    countries: list[_Country] = []
    for entry in _list(data["countries"]):
        raw = {**defaults, **_mapping(entry)}
        markets = raw["markets"]
        cities = tuple(_city(_mapping(city)) for city in _list(raw["cities"]))
        mix = mixes[markets] if isinstance(markets, str) else _weights(markets, Marketplace)
        countries.append(_Country(**_fields(_Country, raw, cities=cities, markets=mix)))
    return tuple(countries)


COUNTRIES: tuple[_Country, ...] = _load_countries()
COUNTRY_BY_CODE: dict[str, _Country] = {c.code: c for c in COUNTRIES}

# Letters that Unicode does not decompose into a base letter, spelt out for e-mail addresses.
_ASCII_FOLD = str.maketrans({_text(k): _text(v) for k, v in _mapping(_data("countries")["ascii_fold"]).items()})


@dataclass(frozen=True)
class _WarehouseSpec:
    id: str
    name: str
    country_code: str
    city: str


_LOGISTICS = _data("logistics")

# Units of each currency per US dollar (the catalogue currency).
FX_RATES: dict[str, Decimal] = {_text(code): _amount(rate) for code, rate in _mapping(_LOGISTICS["fx_rates"]).items()}

EU = frozenset(_texts(_LOGISTICS["eu"]))

WAREHOUSES: tuple[_WarehouseSpec, ...] = tuple(
    _WarehouseSpec(**_fields(_WarehouseSpec, _mapping(w))) for w in _list(_LOGISTICS["warehouses"])
)
WAREHOUSE_BY_ID: dict[str, _WarehouseSpec] = {w.id: w for w in WAREHOUSES}

# Which warehouse fulfils orders for a destination, and how often.
FULFILMENT: dict[str, tuple[tuple[str, int], ...]] = {
    _text(cc): _text_weights(options) for cc, options in _mapping(_LOGISTICS["fulfilment"]).items()
}
_EU_FULFILMENT: tuple[tuple[str, int], ...] = _text_weights(_LOGISTICS["fulfilment_eu"])

# Where parcels are sorted or cross borders: a carrier's own hub where it has one, else the country's gateway.
GATEWAYS: dict[str, str] = {_text(cc): _text(place) for cc, place in _mapping(_LOGISTICS["gateways"]).items()}
CARRIER_HUBS: dict[tuple[str, str], str] = {
    (_text(carrier), _text(cc)): _text(hub)
    for cc, hubs in _mapping(_LOGISTICS["carrier_hubs"]).items()
    for carrier, hub in _mapping(hubs).items()
}
# Which carriers take a parcel, and how often, by the kind of route.
_ROUTE_CARRIERS: dict[str, tuple[tuple[str, int], ...]] = {
    _text(route): _text_weights(carriers) for route, carriers in _mapping(_LOGISTICS["route_carriers"]).items()
}

SHIPPING_USD: dict[ServiceLevel, Decimal] = {
    ServiceLevel(level): _amount(fee) for level, fee in _mapping(_LOGISTICS["shipping_usd"]).items()
}
FREE_SHIPPING_FROM_USD = _amount(_LOGISTICS["free_shipping_from_usd"])
_LEVEL_WEIGHTS: dict[ServiceLevel, int] = dict(_weights(_LOGISTICS["service_level_weights"], ServiceLevel))

_TRACKING_NUMBERS = _mapping(_LOGISTICS["tracking_numbers"])
_TRACKING_DIGITS: dict[str, int] = {_text(c): _number(n) for c, n in _mapping(_TRACKING_NUMBERS["digits"]).items()}
_TRACKING_DEFAULT_DIGITS = _number(_TRACKING_NUMBERS["default_digits"])
_UPS_ACCOUNT_CHARACTERS = _text(_TRACKING_NUMBERS["ups_account_characters"])
_UPS_SERVICE_CODES = _texts(_TRACKING_NUMBERS["ups_service_codes"])

# The carriers' wording of tracking scans.
_TRACKING = _data("tracking")
_SCANS: dict[str, str] = {_text(key): _text(text) for key, text in _mapping(_TRACKING["scans"]).items()}
CUSTOMS_HOLD_REASONS = _texts(_TRACKING["customs_hold"])
DELIVERED_SIGNED = _texts(_TRACKING["delivered_signed"])
DELIVERED_UNSIGNED = _texts(_TRACKING["delivered_unsigned"])
IN_TRANSIT_SCANS = _texts(_TRACKING["in_transit"])
_UNDELIVERABLE = _texts(_TRACKING["undeliverable"])

# How the shop's orders, baskets and customers are mixed.
_STORIES = _data("stories")
_PLANTED_PER_2000 = _text_weights(_STORIES["planted_per_2000_orders"])
_ORDINARY = _text_weights(_STORIES["ordinary"])
_BASKET_LINES = _number_weights(_STORIES["basket_lines"])
_LINE_QUANTITY = _number_weights(_STORIES["line_quantity"])
_CUSTOMER_ORDER_WEIGHT = _number_weights(_STORIES["customer_order_weight"])
_PAYMENT_METHODS_PER_CUSTOMER = _number_weights(_STORIES["payment_methods_per_customer"])
_GIFT_CARD_BALANCES_USD = _numbers(_STORIES["gift_card_balances_usd"])
_EMAIL_DOMAINS = _texts(_STORIES["email_domains"])
CANCEL_REASONS = _texts(_STORIES["cancel_reasons"])
RETURN_REASONS = _texts(_STORIES["return_reasons"])


@dataclass(frozen=True)
class _ExceptionCustomer:
    first_name: str
    last_name: str
    country_code: str
    country: str
    address1: str
    city: str
    postal_code: str
    phone: str
    age_days: int


_EXCEPTION_CARD_BRANDS = _texts(_STORIES["exception_card_brands"])
_EXCEPTION_CUSTOMERS: dict[int, _ExceptionCustomer] = {
    _number(seq): _ExceptionCustomer(**_fields(_ExceptionCustomer, _mapping(raw)))
    for seq, raw in _mapping(_STORIES["exception_customers"]).items()
}


# ---------------------------------------------------------------- catalogue

# (name, category, base price in USD, {option: values}, {option: more values}) for every product:
# the orders are drawn from a few combinations of the first values, the rest of the range is made
# of every combination of all of them.
_CATALOGUE: tuple[tuple[str, str, int, dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]], ...] = tuple(
    (
        _text(p["name"]),
        _text(p["category"]),
        _number(p["price_usd"]),
        {_text(axis): _texts(values) for axis, values in _mapping(p["options"]).items()},
        {_text(axis): _texts(values) for axis, values in _mapping(p.get("more_options") or {}).items()},
    )
    for p in map(_mapping, _list(_data("catalogue")["products"]))
)


# ---------------------------------------------------------------- generation state


@dataclass
class _CustomerDraft:
    customer: Customer
    country: _Country
    methods: list[PaymentMethod]
    weight: int


@dataclass
class _VariantRef:
    variant: Variant
    product: Product


@dataclass
class _ShipmentDraft:
    shipment: Shipment
    stops: list[_Stop]
    # When the carrier picks the parcel up (or will): the scans' times count from it.
    pickup: dt.datetime
    events: list[TrackingEvent] = field(default_factory=list)


# The rows that belong to an order and are numbered after it.
_OrderRow = OrderItem | PaymentTransaction | Refund | Shipment | ReturnRequest | Exchange


@dataclass
class _OrderDraft:
    seq: int
    order: Order
    customer: _CustomerDraft
    items: list[OrderItem]
    warehouse_id: str
    carrier: Carrier
    level: ServiceLevel
    transactions: list[PaymentTransaction] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    shipments: list[_ShipmentDraft] = field(default_factory=list)
    returns: list[ReturnRequest] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    duplicate_of: _OrderDraft | None = None


@dataclass
class _Stop:
    """One tracking scan, placed relative to the pickup."""

    offset: dt.timedelta
    code: TrackingCode
    description: str
    location: str
    country_code: str
    stage: str = ""


class _Ids:
    """Unique random numeric ids; a clash draws again, so the sequence stays seed-determined."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.seen: set[str] = set()

    def draw(self, make: Callable[[random.Random], str]) -> str:
        while True:
            value = make(self._rng)
            if value not in self.seen:
                self.seen.add(value)
                return value


def _days(value: float) -> dt.timedelta:
    """A whole-second duration, so stored timestamps carry no float noise."""
    return dt.timedelta(seconds=round(value * 86400))


def _hours(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=round(value * 3600))


def _fill(rng: random.Random, pattern: str, letters: str) -> str:
    out: list[str] = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randrange(10)))
        elif ch == "%":
            out.append(str(rng.randrange(1, 10)))
        elif ch == "@":
            out.append(rng.choice(letters))
        else:
            out.append(ch)
    return "".join(out)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return "".join(ch for ch in folded.lower() if ch.isascii() and ch.isalnum())


def _name(entry: str, female: bool) -> tuple[str, str]:
    """(display, ascii) for a name-list entry such as ``Kowalski|Kowalska`` or ``佐藤/sato``."""
    display, _, romanized = entry.partition("/")
    display_forms = display.split("|")
    shown = display_forms[-1] if female else display_forms[0]
    if romanized:
        roman_forms = romanized.split("|")
        return shown, _ascii(roman_forms[-1] if female else roman_forms[0])
    return shown, _ascii(shown)


def _weighted(rng: random.Random, options: Sequence[tuple[T, int]]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


# ---------------------------------------------------------------- the generator


class _Generator:
    def __init__(self, seed: int, n_customers: int, n_orders: int, now: dt.datetime) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        # Which parcels still wait for the carrier's pickup is drawn apart, so the rest of the shop
        # stays what the seed has always made.
        self.pickup_rng = random.Random(f"{seed}:pickup")
        self.ids = _Ids(self.rng)
        self.n_customers = n_customers
        self.n_orders = n_orders
        self.now = now
        self.products: list[Product] = []
        self.variants: list[Variant] = []
        self.by_product: dict[str, list[_VariantRef]] = {}
        self.product_weights: list[float] = []
        self.customers: list[_CustomerDraft] = []
        self.orders: list[_OrderDraft] = []
        self.stock: list[StockLevel] = []

    # ------------------------------------------------------------ catalogue and stock

    def build_catalogue(self) -> None:
        rng = self.rng
        for position, (name, category, base, axes, _) in enumerate(_CATALOGUE):
            product = Product(id=self._ten_digits(), name=name, category=category, position=position)
            combos = list(itertools.product(*[range(len(values)) for values in axes.values()]))
            chosen = sorted(rng.sample(combos, k=min(len(combos), rng.randint(3, 7))))
            abbreviation = "".join(word[0] for word in name.upper().replace("-", " ").split())[:3]
            refs: list[_VariantRef] = []
            for v_pos, combo in enumerate(chosen):
                options = {axis: values[i] for (axis, values), i in zip(axes.items(), combo, strict=True)}
                # Bigger sizes and capacities cost a little more.
                price = base * (1 + 0.05 * sum(combo)) * rng.uniform(0.95, 1.06)
                variant = Variant(
                    id=self._ten_digits(),
                    product_id=product.id,
                    sku=f"{abbreviation}-{position + 1:02d}{v_pos + 1:02d}",
                    options=options,
                    price=Decimal(f"{price:.2f}"),
                    available=rng.random() > 0.08,
                    position=v_pos,
                )
                refs.append(_VariantRef(variant, product))
                self.variants.append(variant)
            if not any(ref.variant.available for ref in refs):
                refs[0].variant.available = True
            self.products.append(product)
            self.by_product[product.id] = refs
            # A few best sellers, a long tail.
            self.product_weights.append(rng.paretovariate(1.3))

    def build_range(self) -> None:
        """The rest of each product's range: every other combination of its options, the extra values
        too, in stock in every warehouse. Drawn last, with a generator and ids of its own, so the orders,
        customers and ids the seed has always made stay the same."""
        rng = random.Random(f"{self.seed}:range")
        ids = _Ids(rng)
        ids.seen.update(self.ids.seen)
        next_stock_id = max((level.id for level in self.stock), default=0) + 1
        for position, (_, _, base, axes, more) in enumerate(_CATALOGUE):
            product = self.products[position]
            refs = self.by_product[product.id]
            every = {axis: values + tuple(v for v in more.get(axis, ()) if v not in values) for axis, values in axes.items()}
            taken = {tuple(ref.variant.options[axis] for axis in every) for ref in refs}
            abbreviation = str(refs[0].variant.sku).split("-")[0]
            for combo in itertools.product(*every.values()):
                if combo in taken:
                    continue
                # Bigger sizes and capacities cost a little more; an extra colour costs the same.
                steps = sum(values.index(value) for values, value in zip(axes.values(), combo, strict=True) if value in values)
                price = base * (1 + 0.05 * steps) * rng.uniform(0.95, 1.06)
                v_pos = len(refs)
                variant = Variant(
                    id=ids.draw(lambda r: str(r.randrange(1_000_000_000, 10_000_000_000))),
                    product_id=product.id,
                    sku=f"{abbreviation}-{position + 1:02d}{v_pos + 1:02d}",
                    options=dict(zip(every, combo, strict=True)),
                    price=Decimal(f"{price:.2f}"),
                    available=rng.random() > 0.05,
                    position=v_pos,
                )
                refs.append(_VariantRef(variant, product))
                self.variants.append(variant)
                for warehouse in WAREHOUSES:
                    on_hand = rng.randint(5, 150) if variant.available else 0
                    level = StockLevel(
                        id=next_stock_id, warehouse_id=warehouse.id, variant_id=variant.id, on_hand=on_hand, reserved=0
                    )
                    self.stock.append(level)
                    next_stock_id += 1

    def _ten_digits(self) -> str:
        return self.ids.draw(lambda r: str(r.randrange(1_000_000_000, 10_000_000_000)))

    def _seven_digits(self, prefix: str) -> str:
        return self.ids.draw(lambda r: f"{prefix}{r.randrange(1_000_000, 10_000_000)}")

    def build_stock(self) -> None:
        rng = self.rng
        reserved: dict[tuple[str, str], int] = {}
        for draft in self.orders:
            if draft.order.status == OrderStatus.PENDING:
                for item in draft.items:
                    key = (draft.warehouse_id, item.variant_id)
                    reserved[key] = reserved.get(key, 0) + item.quantity
        demand: dict[str, int] = {}
        for (_, variant_id), qty in reserved.items():
            demand[variant_id] = demand.get(variant_id, 0) + qty
        candidates = sorted((v for v in self.variants if demand.get(v.id, 0) > 0), key=lambda v: (-demand[v.id], v.id))
        oversold_target = max(1, round(self.n_orders * 0.006))
        oversold = {v.id for v in rng.sample(candidates[: oversold_target * 3], k=min(oversold_target, len(candidates)))}
        next_id = 1
        for variant in self.variants:
            for warehouse in WAREHOUSES:
                held = reserved.get((warehouse.id, variant.id), 0)
                if variant.id in oversold:
                    # The listing sold more than the shelves hold: fewer units on hand than reserved.
                    on_hand = rng.randrange(held) if held else 0
                elif not variant.available:
                    on_hand = 0
                elif rng.random() < 0.1:
                    on_hand = held
                else:
                    on_hand = held + rng.randint(0, 150)
                self.stock.append(
                    StockLevel(id=next_id, warehouse_id=warehouse.id, variant_id=variant.id, on_hand=on_hand, reserved=held)
                )
                next_id += 1

    # ------------------------------------------------------------ customers

    def build_customers(self) -> None:
        rng = self.rng
        emails: set[str] = set()
        weights = [(c, c.weight) for c in COUNTRIES]
        for index in range(self.n_customers):
            # The first customers visit every country once, so every language is present.
            country = COUNTRIES[index] if index < len(COUNTRIES) else _weighted(rng, weights)
            female = rng.random() < 0.5
            first, first_ascii = _name(rng.choice(country.female if female else country.male), female)
            last, last_ascii = _name(rng.choice(country.last), female)
            while True:
                local = rng.choice((f"{first_ascii}.{last_ascii}", f"{first_ascii}{last_ascii}", f"{first_ascii[0]}{last_ascii}"))
                email = f"{local}{rng.randint(1, 9999)}@{rng.choice(_EMAIL_DOMAINS)}"
                if email not in emails:
                    emails.add(email)
                    break
            city = rng.choice(country.cities)
            address2 = _fill(rng, rng.choice(country.address2), country.letters) if rng.random() < 0.3 else ""
            house = _fill(rng, rng.choice(country.numbers), "ABC").lower()
            customer = Customer(
                id=f"cus_{index + 1:05d}",
                first_name=first,
                last_name=last,
                email=email,
                phone=_fill(rng, rng.choice(country.phones).replace("{area}", city.phone_area), country.letters),
                preferred_language=country.language,
                country_code=country.code,
                address1=country.address.format(n=house, s=rng.choice(country.streets)),
                address2=address2,
                city=city.name,
                state=city.state,
                postal_code=_fill(rng, rng.choice(city.postal), country.letters),
                country=country.name,
                lifetime_value=ZERO,
                lifetime_value_currency="USD",
                is_vip=False,
            )
            methods = self._payment_methods(customer, country)
            weight = _weighted(rng, _CUSTOMER_ORDER_WEIGHT)
            self.customers.append(_CustomerDraft(customer, country, methods, weight))

    def _payment_methods(self, customer: Customer, country: _Country) -> list[PaymentMethod]:
        rng = self.rng
        count = _weighted(rng, _PAYMENT_METHODS_PER_CUSTOMER)
        extra = rng.sample([PaymentKind.CREDIT_CARD, PaymentKind.PAYPAL, PaymentKind.GIFT_CARD], k=count - 1)
        kinds = [PaymentKind.CREDIT_CARD, *extra]
        if rng.random() < 0.25:
            kinds[0] = PaymentKind.PAYPAL
        methods: list[PaymentMethod] = []
        for position, kind in enumerate(kinds):
            method_id = self._seven_digits(f"{kind.value}_")
            if kind == PaymentKind.CREDIT_CARD:
                method = PaymentMethod(
                    id=method_id,
                    customer_id=customer.id,
                    kind=kind,
                    brand=rng.choice(country.card_brands),
                    last_four=f"{rng.randrange(10000):04d}",
                    position=position,
                )
            elif kind == PaymentKind.GIFT_CARD:
                balance = Decimal(rng.choice(_GIFT_CARD_BALANCES_USD))
                method = PaymentMethod(
                    id=method_id,
                    customer_id=customer.id,
                    kind=kind,
                    balance=convert(balance, FX_RATES[country.currency], country.currency),
                    currency=country.currency,
                    position=position,
                )
            else:
                method = PaymentMethod(id=method_id, customer_id=customer.id, kind=kind, position=position)
            methods.append(method)
        return methods

    # ------------------------------------------------------------ orders

    def plan(self) -> list[str]:
        """One scenario per order slot: the planted problem cases, then ordinary statuses."""
        rng = self.rng
        n = self.n_orders

        def share(per_2000: int) -> int:
            return max(1, round(n * per_2000 / 2000))

        planted = [(scenario, share(per_2000)) for scenario, per_2000 in _PLANTED_PER_2000]
        plan: list[str] = []
        budget = n // 2  # a tiny shop still gets mostly ordinary orders
        for scenario, count in planted:
            cost = 2 if scenario == "duplicate" else 1  # a duplicate is two orders
            taken = min(count, budget // cost)
            plan += [scenario] * taken
            budget -= taken * cost
        rest = n - sum(2 if p == "duplicate" else 1 for p in plan)
        plan += [_weighted(rng, _ORDINARY) for _ in range(rest)]
        rng.shuffle(plan)
        return plan

    def build_orders(self) -> None:
        rng = self.rng
        customer_weights = [c.weight for c in self.customers]
        for scenario in self.plan():
            customer = rng.choices(self.customers, weights=customer_weights)[0]
            if scenario == "duplicate":
                first = self._order(customer, "pending")
                self.orders += [first, self._duplicate(first)]
            else:
                self.orders.append(self._order(customer, scenario))

    def _pick_items(self, scenario: str, recent: bool) -> list[tuple[_VariantRef, int]]:
        rng = self.rng
        lines = _weighted(rng, _BASKET_LINES)
        chosen: list[tuple[_VariantRef, int]] = []
        used: set[str] = set()
        while len(chosen) < lines:
            product = rng.choices(self.products, weights=self.product_weights)[0]
            if product.id in used:
                continue
            refs = self.by_product[product.id]
            pool = [r for r in refs if r.variant.available] if recent else refs
            if scenario == "exchange_requested" and not chosen and len([r for r in refs if r.variant.available]) < 2:
                continue  # the first line is the one exchanged; it needs another variant in stock
            if not pool:
                continue
            used.add(product.id)
            quantity = _weighted(rng, _LINE_QUANTITY)
            chosen.append((rng.choice(pool), quantity))
        return chosen

    def _route_choice(self, country: _Country, scenario: str) -> tuple[str, Carrier, ServiceLevel]:
        rng = self.rng
        options = FULFILMENT.get(country.code, _EU_FULFILMENT)
        if scenario == "customs_hold":
            options = tuple((w, weight) for w, weight in options if _needs_customs(WAREHOUSE_BY_ID[w].country_code, country.code))
            if not options:
                options = (("cn_shenzhen", 1),) if country.code != "CN" else (("us_edison", 1),)
        warehouse_id = _weighted(rng, options)
        origin = WAREHOUSE_BY_ID[warehouse_id].country_code
        if origin == country.code == "US":
            route = "domestic_us"
        elif origin == country.code == "GB":
            route = "domestic_gb"
        elif origin in EU and country.code in EU:
            route = "within_eu"
        elif origin == "CN" and country.code != "CN":
            route = "from_china"
        else:
            route = "other"
        carrier = CARRIERS[_weighted(rng, _ROUTE_CARRIERS[route])]
        level = _weighted(rng, [(lv, _LEVEL_WEIGHTS[lv]) for lv in carrier.service_levels])
        return warehouse_id, carrier, level

    def _order(self, customer: _CustomerDraft, scenario: str) -> _OrderDraft:
        rng = self.rng
        country = customer.country
        currency = country.currency
        rate = FX_RATES[currency]
        recent = scenario in ("pending", "processed", "customs_hold", "stalled", "late", "duplicate", "exchange_requested")
        picked = self._pick_items(scenario, recent)
        items = [
            OrderItem(
                position=pos,
                product_id=ref.product.id,
                variant_id=ref.variant.id,
                name=ref.product.name,
                unit_price=convert(ref.variant.price, rate, currency),
                quantity=qty,
                options=dict(ref.variant.options),
            )
            for pos, (ref, qty) in enumerate(picked)
        ]
        subtotal = sum((item.unit_price * item.quantity for item in items), ZERO)
        subtotal_usd = sum((ref.variant.price * qty for ref, qty in picked), ZERO)
        warehouse_id, carrier, level = self._route_choice(country, scenario)
        free = level != ServiceLevel.EXPRESS and subtotal_usd >= FREE_SHIPPING_FROM_USD
        shipping = ZERO if free else convert(SHIPPING_USD[level], rate, currency)
        tax = round_money(subtotal * country.tax_rate, currency)
        c = customer.customer
        order = Order(
            customer_id=c.id,
            marketplace=_weighted(rng, country.markets),
            currency=currency,
            fx_rate=rate,
            status=OrderStatus.PENDING,
            items_modified=False,
            subtotal=subtotal,
            shipping_fee=shipping,
            tax=tax,
            total=subtotal + shipping + tax,
            ship_name=c.full_name,
            ship_address1=c.address1,
            ship_address2=c.address2,
            ship_city=c.city,
            ship_state=c.state,
            ship_postal_code=c.postal_code,
            ship_country=c.country,
            ship_country_code=c.country_code,
            ip_address=self._ip(country),
        )
        draft = _OrderDraft(
            seq=len(self.orders),
            order=order,
            customer=customer,
            items=items,
            warehouse_id=warehouse_id,
            carrier=carrier,
            level=level,
        )
        self._fulfil(draft, scenario)
        self._pay(draft)
        return draft

    def _ip(self, country: _Country) -> str:
        rng = self.rng
        return f"{rng.choice(country.ip_blocks)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    def _duplicate(self, first: _OrderDraft) -> _OrderDraft:
        """The same basket placed again minutes later (a double click or a retried checkout)."""
        rng = self.rng
        src = first.order
        order = Order(
            customer_id=src.customer_id,
            marketplace=src.marketplace,
            currency=src.currency,
            fx_rate=src.fx_rate,
            status=OrderStatus.PENDING,
            items_modified=False,
            placed_at=src.placed_at + dt.timedelta(seconds=rng.randint(45, 540)),
            subtotal=src.subtotal,
            shipping_fee=src.shipping_fee,
            tax=src.tax,
            total=src.total,
            ship_name=src.ship_name,
            ship_address1=src.ship_address1,
            ship_address2=src.ship_address2,
            ship_city=src.ship_city,
            ship_state=src.ship_state,
            ship_postal_code=src.ship_postal_code,
            ship_country=src.ship_country,
            ship_country_code=src.ship_country_code,
            ip_address=src.ip_address,
        )
        items = [
            OrderItem(
                position=i.position,
                product_id=i.product_id,
                variant_id=i.variant_id,
                name=i.name,
                unit_price=i.unit_price,
                quantity=i.quantity,
                options=dict(i.options),
            )
            for i in first.items
        ]
        draft = _OrderDraft(
            seq=len(self.orders) + 1,
            order=order,
            customer=first.customer,
            items=items,
            warehouse_id=first.warehouse_id,
            carrier=first.carrier,
            level=first.level,
            duplicate_of=first,
        )
        self._pay(draft)
        return draft

    def _pay(self, draft: _OrderDraft) -> None:
        rng = self.rng
        order = draft.order
        methods = draft.customer.methods
        method = methods[0] if rng.random() < 0.7 else rng.choice(methods)
        paid_at = order.placed_at + dt.timedelta(seconds=rng.randint(3, 90))

        def record(kind: TransactionKind, status: TransactionStatus, method_id: str, at: dt.datetime) -> None:
            """The order's total moved on a method, next in the order's payment history."""
            draft.transactions.append(
                PaymentTransaction(
                    position=len(draft.transactions),
                    kind=kind,
                    status=status,
                    amount=order.total,
                    payment_method_id=method_id,
                    created_at=at,
                )
            )

        if rng.random() < 0.03:
            record(TransactionKind.PAYMENT, TransactionStatus.FAILED, method.id, order.placed_at + dt.timedelta(seconds=2))
            method = rng.choice(methods)
        record(TransactionKind.PAYMENT, TransactionStatus.SUCCEEDED, method.id, paid_at)
        if order.status == OrderStatus.CANCELLED:
            assert order.cancelled_at is not None
            refunded_at = order.cancelled_at + dt.timedelta(seconds=rng.randint(60, 3 * 3600))
            record(TransactionKind.REFUND, TransactionStatus.SUCCEEDED, method.id, refunded_at)
            draft.refunds.append(
                Refund(
                    amount=order.total,
                    currency=order.currency,
                    payment_method_id=method.id,
                    destination=RefundDestination.ORIGINAL_METHOD,
                    reason=f"order cancelled: {order.cancel_reason}",
                    created_at=refunded_at,
                )
            )
        paying = next(t.payment_method_id for t in draft.transactions if t.status == TransactionStatus.SUCCEEDED)
        for ret in draft.returns:
            ret.refund_payment_method_id = paying
        for exchange in draft.exchanges:
            exchange.payment_method_id = paying

    # ------------------------------------------------------------ fulfilment by scenario

    def _fulfil(self, draft: _OrderDraft, scenario: str) -> None:
        rng = self.rng
        order = draft.order
        now = self.now
        handling = _days(rng.uniform(0.15, 2.0))
        if scenario == "pending":
            order.placed_at = now - _days(rng.uniform(0.02, 2.8))
            return
        if scenario == "cancelled":
            order.status = OrderStatus.CANCELLED
            order.placed_at = now - _days(rng.uniform(1.0, 365.0))
            order.cancelled_at = order.placed_at + _hours(rng.uniform(0.2, 20.0))
            order.cancel_reason = rng.choice(CANCEL_REASONS)
            return

        transit = draft.carrier.transit_days[draft.level]
        customs = _needs_customs(WAREHOUSE_BY_ID[draft.warehouse_id].country_code, order.ship_country_code)
        if scenario in ("processed", "late", "stalled", "customs_hold", "returned_to_sender"):
            order.status = OrderStatus.PROCESSED
            shipped_at, stops, status = self._in_flight(draft, scenario, transit, customs)
            order.placed_at = shipped_at - handling
            self._add_shipment(draft, [item.variant_id for item in draft.items], shipped_at, stops, status, transit)
            if status == ShipmentStatus.LABEL_CREATED:
                order.placed_at = min(order.placed_at, shipped_at + stops[0].offset - _hours(1))
            return

        # Everything else has been delivered.
        order.status = OrderStatus.DELIVERED
        issue = {
            "delivered_not_received": ProductIssue.DELIVERED_NOT_RECEIVED,
            "damaged_on_arrival": ProductIssue.DAMAGED_ON_ARRIVAL,
            "wrong_variant_shipped": ProductIssue.WRONG_VARIANT_SHIPPED,
        }.get(scenario)
        order.issue = issue
        late = rng.random() < 0.12
        duration = _days(transit * (rng.uniform(1.1, 1.5) if late else rng.uniform(0.7, 1.0)))
        variant_ids = [item.variant_id for item in draft.items]
        parcels = [variant_ids]
        if scenario == "delivered" and len(variant_ids) > 1 and rng.random() < 0.08:
            cut = rng.randint(1, len(variant_ids) - 1)
            parcels = [variant_ids[:cut], variant_ids[cut:]]
        routes = [
            self._route(
                draft,
                duration,
                customs,
                hold_clears=customs and rng.random() < 0.08,
                damaged=issue == ProductIssue.DAMAGED_ON_ARRIVAL,
                unsigned=issue == ProductIssue.DELIVERED_NOT_RECEIVED,
            )
        ]
        gaps = [dt.timedelta(0)]
        if len(parcels) == 2:
            second = _days(transit * rng.uniform(0.7, 1.0))
            routes.append(self._route(draft, second, customs, hold_clears=False, damaged=False, unsigned=False))
            gaps.append(_days(rng.uniform(0.3, 2.0)))
        span = max(gap + route[-1].offset for gap, route in zip(gaps, routes, strict=True))
        if scenario in ("return_requested", "exchange_requested"):
            delivered_ago = _days(rng.uniform(2.0, 40.0))
        elif issue is not None:
            delivered_ago = _days(rng.uniform(0.5, 20.0))
        else:
            oldest = 365.0 - (handling + span).total_seconds() / 86400
            delivered_ago = _days(rng.uniform(0.3, max(0.5, oldest)))
        shipped_at = now - delivered_ago - span
        order.placed_at = shipped_at - handling
        for gap, route, parcel in zip(gaps, routes, parcels, strict=True):
            self._add_shipment(draft, parcel, shipped_at + gap, route, ShipmentStatus.DELIVERED, transit)

        delivered_at = now - delivered_ago
        if scenario == "return_requested":
            order.status = OrderStatus.RETURN_REQUESTED
            lines = rng.sample(draft.items, k=rng.randint(1, len(draft.items)))
            draft.returns.append(
                ReturnRequest(
                    item_ids=[i.variant_id for i in sorted(lines, key=lambda i: i.position)],
                    refund_payment_method_id="",
                    reason=rng.choice(RETURN_REASONS),
                    created_at=self._after(delivered_at, delivered_ago),
                )
            )
        elif scenario == "exchange_requested":
            order.status = OrderStatus.EXCHANGE_REQUESTED
            item = draft.items[0]
            siblings = [
                r.variant for r in self.by_product[item.product_id] if r.variant.available and r.variant.id != item.variant_id
            ]
            new = rng.choice(siblings)
            draft.exchanges.append(
                Exchange(
                    item_ids=[item.variant_id],
                    new_item_ids=[new.id],
                    price_difference=convert(new.price, order.fx_rate, order.currency) - item.unit_price,
                    payment_method_id="",
                    created_at=self._after(delivered_at, delivered_ago),
                )
            )

    def _after(self, delivered_at: dt.datetime, delivered_ago: dt.timedelta) -> dt.datetime:
        window = min(25.0, delivered_ago.total_seconds() / 86400 - 0.05)
        return delivered_at + _days(self.rng.uniform(0.02, max(0.03, window)))

    def _in_flight(
        self, draft: _OrderDraft, scenario: str, transit: int, customs: bool
    ) -> tuple[dt.datetime, list[_Stop], ShipmentStatus]:
        """Pickup time, the scans seen so far and the parcel's status, for a parcel not yet delivered."""
        rng = self.rng
        now = self.now
        if scenario == "processed":
            route = self._route(
                draft, _days(transit * rng.uniform(0.7, 1.0)), customs, hold_clears=False, damaged=False, unsigned=False
            )
            end = min(route[-1].offset, _days(transit))
            elapsed = _days(rng.uniform(0.05, max(0.1, end.total_seconds() / 86400 - 0.1)))
            if self.pickup_rng.random() < WAITING_FOR_PICKUP:
                # The label is printed and the parcel waits at the warehouse: pickup is still ahead.
                elapsed = route[0].offset * self.pickup_rng.uniform(0.1, 0.9)
            seen = [s for s in route if s.offset <= elapsed]
            return now - elapsed, seen, status_after(seen[-1].code)
        if scenario == "late":
            # Delayed but still moving: the promised date has passed, the scans keep coming.
            route = self._route(
                draft, _days(transit + rng.uniform(3.0, 8.0)), customs, hold_clears=False, damaged=False, unsigned=False
            )
            arrives = route[-1].offset.total_seconds() / 86400
            elapsed = _days(rng.uniform(transit + 1.2, arrives - 0.15))
            seen = [s for s in route if s.offset <= elapsed and s.code != TrackingCode.DELIVERED]
            return now - elapsed, seen, status_after(seen[-1].code)
        if scenario == "stalled":
            route = self._route(
                draft, _days(transit * rng.uniform(0.9, 1.3)), customs, hold_clears=False, damaged=False, unsigned=False
            )
            cut = _days(route[-1].offset.total_seconds() / 86400 * rng.uniform(0.1, 0.6))
            seen = [s for s in route if s.offset <= cut]
            silent = _days(rng.uniform(3.6, 9.0))
            return now - silent - seen[-1].offset, seen, ShipmentStatus.IN_TRANSIT
        if scenario == "customs_hold":
            route = self._route(
                draft, _days(transit * rng.uniform(0.8, 1.0)), True, hold_clears=False, damaged=False, unsigned=False
            )
            arrival = next(i for i, s in enumerate(route) if s.stage == "destination")
            seen = route[: arrival + 1]
            gateway = seen[-1]
            hold = _Stop(
                gateway.offset + _hours(rng.uniform(2.0, 10.0)),
                TrackingCode.CUSTOMS_HOLD,
                rng.choice(CUSTOMS_HOLD_REASONS),
                gateway.location,
                gateway.country_code,
            )
            seen.append(hold)
            held_for = _days(rng.uniform(4.0, 12.0))
            return now - held_for - hold.offset, seen, ShipmentStatus.CUSTOMS_HOLD
        # returned_to_sender: two failed attempts, uncollected at the depot, sent back.
        route = self._route(
            draft, _days(transit * rng.uniform(0.7, 1.0)), customs, hold_clears=False, damaged=False, unsigned=False
        )
        out = next(i for i, s in enumerate(route) if s.code == TrackingCode.OUT_FOR_DELIVERY)
        seen = route[:out]
        depot = seen[-1]
        t = depot.offset
        failure = rng.choice(_UNDELIVERABLE)
        for day in range(2):
            t += _hours(rng.uniform(10.0, 14.0) if day == 0 else rng.uniform(20.0, 26.0))
            seen.append(_Stop(t, TrackingCode.OUT_FOR_DELIVERY, _SCANS["out_for_delivery"], depot.location, depot.country_code))
            t += _hours(rng.uniform(2.0, 6.0))
            seen.append(_Stop(t, TrackingCode.DELIVERY_FAILED, failure, depot.location, depot.country_code))
        t += _hours(rng.uniform(3.0, 8.0))
        seen.append(
            _Stop(
                t,
                TrackingCode.ARRIVED_AT_HUB,
                _SCANS["awaiting_collection"],
                depot.location,
                depot.country_code,
            )
        )
        t += _days(rng.uniform(5.0, 8.0))
        seen.append(_Stop(t, TrackingCode.RETURNED_TO_SENDER, _SCANS["returning"], depot.location, depot.country_code))
        since = _days(rng.uniform(0.5, 6.0))
        return now - since - t, seen, ShipmentStatus.RETURNED_TO_SENDER

    def _route(
        self, draft: _OrderDraft, duration: dt.timedelta, customs: bool, *, hold_clears: bool, damaged: bool, unsigned: bool
    ) -> list[_Stop]:
        """Every scan of a parcel's journey from the warehouse to the door, relative to pickup."""
        rng = self.rng
        order = draft.order
        carrier = draft.carrier
        origin = WAREHOUSE_BY_ID[draft.warehouse_id]
        dest_cc = order.ship_country_code
        dest_country = COUNTRY_BY_CODE[dest_cc].name
        origin_city = CARRIER_HUBS.get((carrier.code, origin.country_code), GATEWAYS[origin.country_code])
        origin_hub = f"{origin_city}, {origin.country_code}"
        dest_hub = f"{CARRIER_HUBS.get((carrier.code, dest_cc), GATEWAYS[dest_cc])}, {dest_cc}"
        warehouse = f"{origin.city}, {origin.country_code}"
        local = f"{order.ship_city}, {dest_cc}"
        d = duration.total_seconds() / 86400

        def at(fraction: float) -> dt.timedelta:
            return _days(d * min(1.0, max(0.0, fraction + rng.uniform(-0.03, 0.03))))

        stops = [
            _Stop(
                -_hours(rng.uniform(1.0, 20.0)),
                TrackingCode.LABEL_CREATED,
                _SCANS["label_created"].format(carrier=carrier.name),
                warehouse,
                origin.country_code,
            ),
            _Stop(dt.timedelta(0), TrackingCode.PICKED_UP, _SCANS["picked_up"], warehouse, origin.country_code),
            _Stop(
                at(0.1),
                TrackingCode.ARRIVED_AT_HUB,
                _SCANS["origin_hub"].format(carrier=carrier.name),
                origin_hub,
                origin.country_code,
            ),
        ]
        if origin.country_code == dest_cc:
            stops.append(_Stop(at(0.3), TrackingCode.IN_TRANSIT, _SCANS["departed_domestic"], origin_hub, origin.country_code))
        else:
            if customs:
                stops.append(
                    _Stop(
                        at(0.16),
                        TrackingCode.EXPORT_CLEARED,
                        _SCANS["export_cleared"],
                        origin_hub,
                        origin.country_code,
                    )
                )
            stops.append(
                _Stop(
                    at(0.22),
                    TrackingCode.IN_TRANSIT,
                    _SCANS["departed_abroad"].format(hub=origin_city, country=dest_country),
                    origin_hub,
                    origin.country_code,
                )
            )
            stops.append(
                _Stop(at(0.5), TrackingCode.ARRIVED_AT_HUB, _SCANS["destination_gateway"], dest_hub, dest_cc, stage="destination")
            )
            if customs:
                if hold_clears:
                    stops.append(_Stop(at(0.54), TrackingCode.CUSTOMS_HOLD, rng.choice(CUSTOMS_HOLD_REASONS), dest_hub, dest_cc))
                stops.append(_Stop(at(0.6), TrackingCode.CUSTOMS_CLEARED, _SCANS["import_cleared"], dest_hub, dest_cc))
            stops.append(
                _Stop(
                    at(0.66),
                    TrackingCode.IN_TRANSIT,
                    _SCANS["departed_gateway"].format(city=order.ship_city),
                    dest_hub,
                    dest_cc,
                )
            )
        if damaged:
            stops.append(_Stop(at(0.75), TrackingCode.DAMAGED, _SCANS["damaged"], dest_hub, dest_cc))
        stops.append(_Stop(at(0.85), TrackingCode.ARRIVED_AT_HUB, _SCANS["local_depot"], local, dest_cc))
        delivered = _days(d)
        if not unsigned and d >= 2.5 and rng.random() < 0.06:
            first_try = delivered - _days(1.0)
            stops.append(
                _Stop(
                    first_try - _hours(rng.uniform(2.0, 5.0)),
                    TrackingCode.OUT_FOR_DELIVERY,
                    _SCANS["out_for_delivery"],
                    local,
                    dest_cc,
                )
            )
            stops.append(_Stop(first_try, TrackingCode.DELIVERY_FAILED, _SCANS["attempt_failed"], local, dest_cc))
        stops.append(
            _Stop(
                delivered - _hours(rng.uniform(2.0, 6.0)),
                TrackingCode.OUT_FOR_DELIVERY,
                _SCANS["out_for_delivery"],
                local,
                dest_cc,
            )
        )
        stops.append(
            _Stop(
                delivered,
                TrackingCode.DELIVERED,
                rng.choice(DELIVERED_UNSIGNED if unsigned else DELIVERED_SIGNED),
                local,
                dest_cc,
            )
        )
        return self._tidy(stops)

    def _tidy(self, stops: list[_Stop]) -> list[_Stop]:
        """Strictly increasing times, and no silence over two days before the parcel is out for delivery."""
        rng = self.rng
        tidy: list[_Stop] = []
        for stop in stops:
            if tidy and stop.offset <= tidy[-1].offset + dt.timedelta(minutes=5):
                stop.offset = tidy[-1].offset + dt.timedelta(minutes=rng.randint(6, 90))
            if tidy and stop.offset - tidy[-1].offset > dt.timedelta(days=2):
                previous = tidy[-1]
                t = previous.offset
                crossing = stop.country_code != previous.country_code
                while stop.offset - t > dt.timedelta(days=2):
                    t += _days(rng.uniform(0.8, 1.8))
                    scan = _SCANS["in_transit_to"].format(place=stop.location) if crossing else rng.choice(IN_TRANSIT_SCANS)
                    tidy.append(_Stop(t, TrackingCode.IN_TRANSIT, scan, previous.location, previous.country_code))
            tidy.append(stop)
        return tidy

    def _add_shipment(
        self,
        draft: _OrderDraft,
        variant_ids: list[str],
        shipped_at: dt.datetime,
        stops: list[_Stop],
        status: ShipmentStatus,
        transit: int,
    ) -> None:
        carrier = draft.carrier
        delivered_at = shipped_at + stops[-1].offset if status == ShipmentStatus.DELIVERED else None
        shipment = Shipment(
            carrier=carrier.code,
            service_level=draft.level,
            tracking_number=self._tracking_number(carrier),
            status=status,
            item_ids=list(variant_ids),
            warehouse_id=draft.warehouse_id,
            shipped_at=None if status == ShipmentStatus.LABEL_CREATED else shipped_at,
            promised_delivery_date=shipped_at.date() + dt.timedelta(days=transit),
            delivered_at=delivered_at,
            is_reshipment=False,
        )
        draft.shipments.append(_ShipmentDraft(shipment, stops, shipped_at))

    def _tracking_number(self, carrier: Carrier) -> str:
        prefix = carrier.tracking_prefix

        def make(r: random.Random) -> str:
            if carrier.code == "ups":
                account = "".join(r.choice(_UPS_ACCOUNT_CHARACTERS) for _ in range(6))
                return f"{prefix}{account}{r.choice(_UPS_SERVICE_CODES)}{r.randrange(10**8):08d}"
            digits = _TRACKING_DIGITS.get(carrier.code, _TRACKING_DEFAULT_DIGITS)
            return f"{prefix}{r.randrange(10**digits):0{digits}d}"

        return self.ids.draw(make)

    # ------------------------------------------------------------ numbering and totals

    def finalise(self) -> None:
        """Number orders the way each marketplace does, in the order they were placed; link every row."""
        rng = self.rng
        self.orders.sort(key=lambda d: (d.order.placed_at, d.seq))
        shopify_next = 1001
        next_id = dict.fromkeys(("item", "transaction", "refund", "shipment", "return", "exchange"), 1)
        event_id = 1
        for draft in self.orders:
            order = draft.order
            if order.marketplace == Marketplace.SHOPIFY:
                order.id = f"#{shopify_next}"
                shopify_next += 1
            elif order.marketplace == Marketplace.AMAZON:
                order.id = self.ids.draw(lambda r: f"{r.randint(111, 408)}-{r.randrange(10**7):07d}-{r.randrange(10**7):07d}")
            elif order.marketplace == Marketplace.EBAY:
                order.id = self.ids.draw(lambda r: f"{r.randint(10, 29)}-{r.randint(10000, 99999)}-{r.randint(10000, 99999)}")
            else:
                order.id = self.ids.draw(lambda r: f"#W{r.randint(1_000_000, 9_999_999)}")
            rows: dict[str, Sequence[_OrderRow]] = {
                "item": draft.items,
                "transaction": draft.transactions,
                "refund": draft.refunds,
                "shipment": [ship.shipment for ship in draft.shipments],
                "return": draft.returns,
                "exchange": draft.exchanges,
            }
            for table, records in rows.items():
                for record in records:
                    record.id, record.order_id = next_id[table], order.id
                    next_id[table] += 1
        for draft in self.orders:
            if draft.duplicate_of is not None:
                draft.order.duplicate_of = draft.duplicate_of.order.id
        for draft in self.orders:
            for ship in draft.shipments:
                ship.events = [
                    TrackingEvent(
                        id=event_id + i,
                        shipment_id=ship.shipment.id,
                        # A label is printed after the order is placed, however short the handling.
                        occurred_at=max(ship.pickup + stop.offset, draft.order.placed_at + LABEL_AFTER_ORDER)
                        if stop.code == TrackingCode.LABEL_CREATED
                        else ship.pickup + stop.offset,
                        code=stop.code,
                        description=stop.description,
                        location=stop.location,
                        country_code=stop.country_code,
                    )
                    for i, stop in enumerate(ship.stops)
                ]
                event_id += len(ship.stops)
        self._customer_totals(rng)

    def _customer_totals(self, rng: random.Random) -> None:
        spent: dict[str, Decimal] = {}
        first_order: dict[str, dt.datetime] = {}
        for draft in self.orders:
            order = draft.order
            first_order.setdefault(order.customer_id, order.placed_at)
            if order.status != OrderStatus.CANCELLED:  # cancelled orders were refunded in full
                spent[order.customer_id] = spent.get(order.customer_id, ZERO) + order.total / order.fx_rate
        for cd in self.customers:
            c = cd.customer
            c.lifetime_value = round_money(spent.get(c.id, ZERO))
            first = first_order.get(c.id, self.now - _days(rng.uniform(1.0, 30.0)))
            c.created_at = first - _days(rng.uniform(0.01, 400.0))
        # The seller's VIPs: the top twentieth of customers by spend.
        ranked = sorted(self.customers, key=lambda cd: (-cd.customer.lifetime_value, cd.customer.id))
        for cd in ranked[: max(1, len(ranked) // 20)]:
            cd.customer.is_vip = True


def _needs_customs(origin: str, destination: str) -> bool:
    return origin != destination and not (origin in EU and destination in EU)


def generate_demo_data(
    store: Store,
    *,
    seed: int = 7,
    customers: int = 500,
    orders: int = 2000,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    exceptions: bool = True,
) -> DemoSummary:
    """Wipe the store and fill it with a seller's demo data; the same seed and ``now`` give the same rows.

    With ``exceptions`` (the default), a shop of at least ``EXCEPTIONS_FROM_ORDERS`` orders also gets
    a few extra customers and orders for the exception monitor (``seed_exceptions``); a smaller shop
    has exactly the customers and orders asked for.

    ``progress(done, total)`` is called as orders are generated; it counts orders stored, since
    writing them is most of the time. ``now`` (default ``REFERENCE_NOW``) is the instant every
    date is placed relative to.
    """
    if customers < 1 or orders < 1:
        raise ValueError("customers and orders must both be at least 1")
    reference = now or REFERENCE_NOW
    # A naive instant is taken as UTC, as the store does with naive timestamps.
    reference = reference.replace(tzinfo=dt.UTC) if reference.tzinfo is None else reference.astimezone(dt.UTC)
    if progress is not None:
        progress(0, orders)
    gen = _Generator(seed, customers, orders, reference)
    gen.build_catalogue()
    gen.build_customers()
    gen.build_orders()
    gen.build_stock()
    gen.finalise()
    gen.build_range()

    store.reset()
    with store.write() as session:
        session.add_all([Warehouse(id=w.id, name=w.name, country_code=w.country_code) for w in WAREHOUSES])
        session.add_all(gen.products)
        session.add_all(gen.variants)
        session.add_all(gen.stock)
        session.add_all([cd.customer for cd in gen.customers])
        session.add_all([m for cd in gen.customers for m in cd.methods])
    total = len(gen.orders)
    for start in range(0, total, ORDERS_PER_WRITE):
        with store.write() as session:
            # Flushing in batches inside the unit of work lets the progress bar move while it runs.
            for batch in range(start, min(total, start + ORDERS_PER_WRITE), ORDERS_PER_FLUSH):
                done = min(total, start + ORDERS_PER_WRITE, batch + ORDERS_PER_FLUSH)
                session.add_all([row for draft in gen.orders[batch:done] for row in _rows(draft)])
                session.flush()
                if progress is not None:
                    progress(done, total)
    summary = _summarise(gen)
    if exceptions and orders >= EXCEPTIONS_FROM_ORDERS:
        with store.write() as session:
            added = seed_exceptions(session, random.Random(f"{seed}-exceptions"), reference)
        summary.customers += added["customers"]
        summary.orders += added["orders"]
    return summary


def _rows(draft: _OrderDraft) -> list[Base]:
    rows: list[Base] = [draft.order, *draft.items, *draft.transactions, *draft.refunds, *draft.returns, *draft.exchanges]
    for ship in draft.shipments:
        rows.append(ship.shipment)
        rows += ship.events
    return rows


def _summarise(gen: _Generator) -> DemoSummary:
    now = gen.now
    today = now.date()
    shipments = [s for d in gen.orders for s in d.shipments]
    messy = {
        "customs_hold": 0,
        "stalled_no_events": 0,
        "promised_date_passed": 0,
        "returned_to_sender": 0,
        "delivered_not_received": 0,
        "damaged_on_arrival": 0,
        "wrong_variant_shipped": 0,
        "duplicate_order": 0,
        "oversold_stock": 0,
    }
    for ship in shipments:
        s = ship.shipment
        last = ship.events[-1]
        silent = now - last.occurred_at > STALL_AFTER
        if s.status == ShipmentStatus.CUSTOMS_HOLD and last.code == TrackingCode.CUSTOMS_HOLD and silent:
            messy["customs_hold"] += 1
        if s.status == ShipmentStatus.IN_TRANSIT and silent:
            messy["stalled_no_events"] += 1
        if s.status == ShipmentStatus.RETURNED_TO_SENDER:
            messy["returned_to_sender"] += 1
        done = s.status in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER)
        if not done and s.promised_delivery_date is not None and s.promised_delivery_date < today:
            messy["promised_date_passed"] += 1
    for draft in gen.orders:
        if draft.order.issue is not None:
            messy[draft.order.issue.value] += 1
        if draft.order.duplicate_of is not None:
            messy["duplicate_order"] += 1
    on_hand: dict[str, int] = {}
    reserved: dict[str, int] = {}
    for level in gen.stock:
        on_hand[level.variant_id] = on_hand.get(level.variant_id, 0) + level.on_hand
        reserved[level.variant_id] = reserved.get(level.variant_id, 0) + level.reserved
    messy["oversold_stock"] = sum(1 for v in gen.variants if reserved[v.id] > on_hand[v.id])
    return DemoSummary(
        customers=len(gen.customers),
        orders=len(gen.orders),
        products=len(gen.products),
        variants=len(gen.variants),
        warehouses=len(WAREHOUSES),
        shipments=len(shipments),
        tracking_events=sum(len(s.events) for s in shipments),
        countries=sorted({cd.customer.country_code for cd in gen.customers}),
        marketplaces=sorted({d.order.marketplace.value for d in gen.orders}),
        carriers=sorted({s.shipment.carrier for s in shipments}),
        currencies=sorted({d.order.currency for d in gen.orders}),
        messy=messy,
    )


def is_demo_shop(session: Session) -> bool:
    """Whether the store holds the demo shop: customers, every one at an example domain (the
    domains reserved for examples, which no real customer has)."""
    from sqlalchemy import func, or_, select

    at_example = or_(*(Customer.email.like(f"%@{domain}") for domain in _EMAIL_DOMAINS))
    real = session.scalar(select(func.count()).select_from(Customer).where(~at_example)) or 0
    return real == 0 and bool(session.scalar(select(func.count()).select_from(Customer)))


def demo_customers(session: Session, count: int = 5, *, now: dt.datetime | None = None) -> list[dict[str, str]]:
    """Customers worth trying the chat as: one per language, each with an order in a
    situation the agent handles (late or held parcel, damage, a pending order, a return)."""
    from sqlalchemy import select

    today = (now or REFERENCE_NOW).date()
    orders = session.scalars(select(Order).order_by(Order.placed_at.desc())).all()
    seen: set[str] = set()
    per_hint: dict[str, int] = {}
    picked: list[dict[str, str]] = []
    for order in orders:
        shipment = order.shipments[-1] if order.shipments else None
        language = order.customer.preferred_language
        if language in seen:
            continue
        if shipment is not None and shipment.status == ShipmentStatus.CUSTOMS_HOLD:
            hint = "where is my parcel?"
        elif (
            shipment is not None
            and shipment.status == ShipmentStatus.IN_TRANSIT
            and shipment.promised_delivery_date is not None
            and shipment.promised_delivery_date < today
        ):
            hint = "my parcel is late"
        elif order.issue == ProductIssue.DAMAGED_ON_ARRIVAL:
            hint = "it arrived damaged"
        elif order.status == OrderStatus.PENDING:
            hint = "please cancel it"
        elif order.status == OrderStatus.DELIVERED:
            hint = "I want to return it"
        else:
            continue
        if per_hint.get(hint, 0) >= max(1, count // 4):
            continue
        per_hint[hint] = per_hint.get(hint, 0) + 1
        seen.add(language)
        picked.append(
            {
                "name": f"{order.customer.first_name} {order.customer.last_name}",
                "email": order.customer.email,
                "order_id": order.id,
                "status": order.status.value,
                "situation": hint,
                "language": language,
            }
        )
        if len(picked) >= count:
            break
    return picked


# ---------------------------------------------------------------- cases for the exception monitor


def seed_exceptions(session: Session, rng: random.Random, now: dt.datetime) -> dict[str, int]:
    """Add customers and orders (ids ``cus_X9…`` and ``#X9…``) for the exception monitor's rules that
    the ordinary shop never meets: a burst of orders from one IP address, a first-order coupon on a
    brand-new account, a phone from another country, a forwarder address and a malformed one, a
    payment captured days ago with nothing shipped, stock held for a failed payment and a refund
    above the payment. Returns how many customers and orders were added."""
    from sqlalchemy import select

    variants = list(session.scalars(select(Variant).where(Variant.available.is_(True)).order_by(Variant.id).limit(40)))
    names = {p.id: p.name for p in session.scalars(select(Product))}
    rate = FX_RATES["EUR"]
    languages = {c.code: c.language for c in COUNTRIES}
    added = {"customers": 0, "orders": 0}

    def customer(seq: int) -> tuple[Customer, PaymentMethod]:
        """The customer ``cus_X<seq>`` of data/demo_stories.yaml, with a card."""
        person = _EXCEPTION_CUSTOMERS[seq]
        c = Customer(
            id=f"cus_X{seq}",
            first_name=person.first_name,
            last_name=person.last_name,
            email=f"{person.first_name.lower()}.{person.last_name.lower()}.x{seq}@example.net",
            phone=person.phone,
            preferred_language=languages.get(person.country_code, "de"),
            country_code=person.country_code,
            address1=person.address1,
            city=person.city,
            postal_code=person.postal_code,
            country=person.country,
            lifetime_value_currency="USD",
            created_at=now - _days(person.age_days),
        )
        card = PaymentMethod(
            id=f"credit_card_X{seq}",
            customer_id=c.id,
            kind=PaymentKind.CREDIT_CARD,
            brand=rng.choice(_EXCEPTION_CARD_BRANDS),
            last_four=f"{rng.randrange(10000):04d}",
        )
        session.add_all([c, card])
        session.flush()
        added["customers"] += 1
        return c, card

    def order(
        seq: int,
        c: Customer,
        card: PaymentMethod,
        placed_ago: dt.timedelta,
        picks: int,
        *,
        status: OrderStatus = OrderStatus.PENDING,
        paid: bool = True,
        ip: str | None = None,
        quantity: int = 1,
    ) -> Order:
        chosen = rng.sample(variants, k=picks)
        o = Order(
            id=f"#X{seq}",
            customer_id=c.id,
            marketplace=Marketplace.OWN_SITE,
            currency="EUR",
            fx_rate=rate,
            status=status,
            placed_at=now - placed_ago,
            ship_name=c.full_name,
            ship_address1=c.address1,
            ship_city=c.city,
            ship_postal_code=c.postal_code,
            ship_country=c.country,
            ship_country_code=c.country_code,
            ip_address=ip or f"198.51.100.{rng.randrange(1, 255)}",
        )
        o.items = [
            OrderItem(
                position=i,
                product_id=v.product_id,
                variant_id=v.id,
                name=names.get(v.product_id, ""),
                unit_price=convert(v.price, rate, "EUR"),
                quantity=quantity,
                options=dict(v.options),
            )
            for i, v in enumerate(chosen)
        ]
        o.subtotal = sum((item.unit_price * item.quantity for item in o.items), ZERO)
        o.total = o.subtotal
        attempt = o.placed_at + dt.timedelta(seconds=rng.randint(3, 60))
        o.transactions = [
            PaymentTransaction(
                position=0,
                kind=TransactionKind.PAYMENT,
                status=TransactionStatus.SUCCEEDED if paid else TransactionStatus.FAILED,
                amount=o.total,
                payment_method_id=card.id,
                created_at=attempt,
            )
        ]
        session.add(o)
        added["orders"] += 1
        return o

    # A forwarder's pickup station and a street line with no house number and a malformed postal code.
    lena, lena_card = customer(9001)
    order(9001, lena, lena_card, _days(2.9), 2)
    marco, marco_card = customer(9002)
    order(9002, marco, marco_card, _days(2.95), 1)
    # A first-order coupon on an account two days old, on a basket well above the usual.
    jonas, jonas_card = customer(9003)
    coupon_order = order(9003, jonas, jonas_card, _days(1.5), 3, quantity=4, status=OrderStatus.CANCELLED)
    coupon_order.cancelled_at = now - _days(1.2)
    session.add(
        Coupon(
            code="WELCOME-X9003",
            customer_id=jonas.id,
            percent_off=15,
            reason="welcome offer",
            first_order_only=True,
            expires_at=now + _days(30),
            redeemed_order_id=coupon_order.id,
            created_at=now - _days(2),
        )
    )
    # Three accounts ordering from one IP address within four minutes.
    start = _days(3.5)
    for seq in (9004, 9005, 9006):
        c, card = customer(seq)
        burst = order(seq, c, card, start - dt.timedelta(minutes=2 * (seq - 9004)), 1, ip="203.0.113.7")
        burst.status, burst.cancelled_at, burst.cancel_reason = OrderStatus.CANCELLED, now - _days(3), "payment review"
    # Paid six days ago, nothing shipped.
    eva, eva_card = customer(9007)
    order(9007, eva, eva_card, _days(6), 2)
    # Stock held for an order whose only payment attempt failed.
    paul, paul_card = customer(9008)
    order(9008, paul, paul_card, _days(4), 1, paid=False)
    # Refunded twice for one payment.
    nina, nina_card = customer(9009)
    twice = order(9009, nina, nina_card, _days(10), 1, status=OrderStatus.CANCELLED)
    twice.cancelled_at, twice.cancel_reason = now - _days(9.9), "customer changed their mind"
    for position in (1, 2):
        twice.transactions.append(
            PaymentTransaction(
                position=position,
                kind=TransactionKind.REFUND,
                amount=twice.total,
                payment_method_id=nina_card.id,
                created_at=now - _days(9.8 - position),
            )
        )
    session.flush()
    return added
