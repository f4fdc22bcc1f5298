"""Demo data for the order store: a cross-border seller's year of trade, seeded and repeatable.

``generate_demo_data`` wipes the store and writes customers in 16 countries, a catalogue,
warehouses and stock, orders from four marketplaces with payments, shipments and tracking,
returns and exchanges, and a known number of the cases support deals with every day
(parcels stuck in customs, stalled or late parcels, damaged or missing deliveries, wrong
variants, duplicate orders, oversold stock, parcels returned to sender).

Everything comes from ``random.Random(seed)`` and the reference instant ``now``: the same
seed and ``now`` always write the same rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

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

__all__ = ["REFERENCE_NOW", "DemoSummary", "generate_demo_data", "seed_exceptions"]

# A fixed instant, so the same seed gives the same data whatever the wall clock says.
REFERENCE_NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)

STALL_AFTER = dt.timedelta(days=3)  # no scan for longer than this while in transit counts as stalled
ORDERS_PER_WRITE = 1000  # orders per unit of work
ORDERS_PER_FLUSH = 100  # orders between progress reports
EXCEPTIONS_FROM_ORDERS = 1000  # smallest shop that gets the exception monitor's extra cases

ZERO = Decimal("0")

T = TypeVar("T")


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

# Units of each currency per US dollar (the catalogue currency).
FX_RATES: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "JPY": Decimal("151.20"),
    "KRW": Decimal("1372.00"),
    "PLN": Decimal("3.98"),
    "TRY": Decimal("34.20"),
    "BRL": Decimal("5.45"),
    "MXN": Decimal("19.80"),
    "CNY": Decimal("7.24"),
    "SAR": Decimal("3.75"),
    "KZT": Decimal("495.00"),
}

EU = frozenset({"DE", "FR", "ES", "IT", "NL", "PL"})

_DEFAULT_MARKETS: tuple[tuple[Marketplace, int], ...] = (
    (Marketplace.AMAZON, 35),
    (Marketplace.SHOPIFY, 30),
    (Marketplace.EBAY, 15),
    (Marketplace.OWN_SITE, 20),
)
_DIRECT_MARKETS: tuple[tuple[Marketplace, int], ...] = ((Marketplace.SHOPIFY, 55), (Marketplace.OWN_SITE, 45))


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
    letters: str = "ABCDEFGHJKLMNPRSTUVWXYZ"
    card_brands: tuple[str, ...] = ("visa", "mastercard", "amex")
    markets: tuple[tuple[Marketplace, int], ...] = _DEFAULT_MARKETS


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _codes(prefix: str, low: int, high: int, width: int, suffix: str = "") -> tuple[str, ...]:
    return tuple(f"{prefix}{n:0{width}d}{suffix}" for n in range(low, high + 1))


COUNTRIES: tuple[_Country, ...] = (
    _Country(
        "US",
        "United States",
        "en",
        "USD",
        22,
        Decimal("0.08"),
        (
            _City("New York", "NY", ("100##", "101##"), "212"),
            _City("Brooklyn", "NY", ("112##",), "718"),
            _City("Los Angeles", "CA", ("900##",), "213"),
            _City("San Francisco", "CA", ("941##",), "415"),
            _City("Chicago", "IL", ("606##",), "312"),
            _City("Houston", "TX", ("770##",), "713"),
            _City("Austin", "TX", ("787##",), "512"),
            _City("Seattle", "WA", ("981##",), "206"),
            _City("Denver", "CO", ("802##",), "303"),
            _City("Miami", "FL", ("331##",), "305"),
            _City("Boston", "MA", ("021##",), "617"),
            _City("Atlanta", "GA", ("303##",), "404"),
        ),
        _names(
            "Main Street, Oak Avenue, Maple Drive, Cedar Lane, Park Avenue, Elm Street, "
            "Washington Street, Lakeview Drive, Pine Street, Sunset Boulevard, Hillcrest Road"
        ),
        "{n} {s}",
        ("%#", "%##", "%###"),
        ("Apt %#", "Apt %@", "Suite %##", "Unit %"),
        ("+1 {area} %##-####",),
        _names("James, Michael, Robert, David, Daniel, Ethan, Noah, Liam, Anthony, Tyler"),
        _names("Mary, Jennifer, Emily, Olivia, Ava, Sophia, Madison, Ashley, Grace, Chloe"),
        _names(
            "Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Garcia, Wilson, Anderson, Taylor, Thomas, Moore, Martin, Lee"
        ),
        (24, 67, 68, 71, 73, 76, 98, 108, 174),
        letters="ABCDEFGH",
    ),
    _Country(
        "GB",
        "United Kingdom",
        "en",
        "GBP",
        10,
        Decimal("0.20"),
        (
            _City("London", "Greater London", ("E% #@@", "N% #@@", "SE1% #@@", "SW% #@@", "NW% #@@")),
            _City("Manchester", "Greater Manchester", ("M% #@@", "M1% #@@")),
            _City("Birmingham", "West Midlands", ("B% #@@", "B1% #@@")),
            _City("Leeds", "West Yorkshire", ("LS% #@@",)),
            _City("Glasgow", "Scotland", ("G% #@@",)),
            _City("Bristol", "Bristol", ("BS% #@@",)),
            _City("Edinburgh", "Scotland", ("EH% #@@",)),
        ),
        _names(
            "High Street, Station Road, Church Lane, Victoria Road, King's Road, Mill Lane, "
            "Queen Street, Park Road, Albert Terrace"
        ),
        "{n} {s}",
        ("%", "%#", "%##"),
        ("Flat %", "Flat %@", "Flat %#"),
        ("+44 7%## ######",),
        _names("Oliver, George, Harry, Jack, Charlie, Thomas, William, Alfie, Arthur, Oscar"),
        _names("Olivia, Amelia, Isla, Ava, Emily, Sophie, Poppy, Isabella, Jessica, Lily"),
        _names(
            "Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Evans, Walker, Wright, Thompson, Robinson, Hughes"
        ),
        (31, 81, 86, 90, 109, 151),
        letters="ABDEFGHJLNPQRSTUWXYZ",
    ),
    _Country(
        "DE",
        "Germany",
        "de",
        "EUR",
        10,
        Decimal("0.19"),
        (
            _City("Berlin", "Berlin", ("10###", "12###", "13###")),
            _City("Hamburg", "Hamburg", ("20###", "22###")),
            _City("München", "Bayern", ("80###", "81###")),
            _City("Köln", "Nordrhein-Westfalen", ("50###", "51###")),
            _City("Frankfurt am Main", "Hessen", ("60###",)),
            _City("Stuttgart", "Baden-Württemberg", ("70###",)),
            _City("Leipzig", "Sachsen", ("04###",)),
            _City("Düsseldorf", "Nordrhein-Westfalen", ("40###",)),
        ),
        _names(
            "Hauptstraße, Schillerstraße, Goethestraße, Bahnhofstraße, Lindenstraße, Gartenweg, "
            "Bergstraße, Kastanienallee, Mozartstraße"
        ),
        "{s} {n}",
        ("%", "%#", "%#a", "1%#"),
        ("%. OG", "Hinterhaus", "Wohnung %#", "c/o Hausverwaltung"),
        ("+49 15% ########", "+49 17% #######", "+49 16% #######"),
        _names("Lukas, Leon, Finn, Jonas, Maximilian, Paul, Felix, Thomas, Jürgen, Tobias"),
        _names("Anna, Lea, Hannah, Marie, Sophie, Katharina, Sabine, Laura, Julia, Mia"),
        _names("Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Koch, Richter, Klein, Wolf"),
        (46, 79, 84, 87, 91, 93),
    ),
    _Country(
        "FR",
        "France",
        "fr",
        "EUR",
        7,
        Decimal("0.20"),
        (
            _City("Paris", "Île-de-France", _codes("750", 1, 20, 2)),
            _City("Lyon", "Auvergne-Rhône-Alpes", _codes("6900", 1, 9, 1)),
            _City("Marseille", "Provence-Alpes-Côte d'Azur", _codes("130", 1, 16, 2)),
            _City("Toulouse", "Occitanie", ("31000", "31100", "31200", "31300", "31400", "31500")),
            _City("Bordeaux", "Nouvelle-Aquitaine", ("33000", "33100", "33200", "33300", "33800")),
            _City("Nice", "Provence-Alpes-Côte d'Azur", ("06000", "06100", "06200", "06300")),
            _City("Lille", "Hauts-de-France", ("59000", "59160", "59260", "59800")),
        ),
        _names(
            "rue de la République, avenue Victor Hugo, rue Pasteur, boulevard Voltaire, rue des Lilas, "
            "rue du Faubourg Saint-Antoine, avenue Jean Jaurès, rue Nationale"
        ),
        "{n} {s}",
        ("%", "%#", "%# bis", "1%#"),
        ("Bâtiment @", "Appartement %#", "Escalier %, porte %"),
        ("+33 6 ## ## ## ##", "+33 7 ## ## ## ##"),
        _names("Louis, Gabriel, Jules, Hugo, Arthur, Lucas, Nathan, Antoine, Julien, Thomas"),
        _names("Emma, Jade, Louise, Chloé, Léa, Camille, Manon, Inès, Sarah, Juliette"),
        _names("Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Lefèvre, Girard, Fontaine"),
        (78, 82, 88, 90, 92, 176),
    ),
    _Country(
        "ES",
        "Spain",
        "es",
        "EUR",
        5,
        Decimal("0.21"),
        (
            _City("Madrid", "Madrid", _codes("280", 1, 55, 2)),
            _City("Barcelona", "Barcelona", _codes("080", 1, 42, 2)),
            _City("Valencia", "Valencia", _codes("460", 1, 26, 2)),
            _City("Sevilla", "Sevilla", _codes("410", 1, 20, 2)),
            _City("Málaga", "Málaga", _codes("290", 1, 18, 2)),
            _City("Bilbao", "Bizkaia", _codes("480", 1, 15, 2)),
        ),
        _names(
            "Calle Mayor, Gran Vía, Calle de Alcalá, Avenida de la Constitución, Calle Real, "
            "Paseo de la Castellana, Calle del Sol, Calle Serrano"
        ),
        "{s}, {n}",
        ("%", "%#", "%##"),
        ("%º @", "Piso %, puerta @", "Bajo @"),
        ("+34 6## ### ###", "+34 7## ### ###"),
        _names("Hugo, Martín, Lucas, Mateo, Alejandro, Javier, Pablo, Daniel, Sergio, Álvaro"),
        _names("Lucía, Sofía, Martina, María, Paula, Carmen, Laura, Elena, Marta, Alba"),
        _names("García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, Gómez, Jiménez, Ruiz, Navarro"),
        (2, 37, 80, 83, 88, 95),
        letters="ABCD",
    ),
    _Country(
        "IT",
        "Italy",
        "it",
        "EUR",
        5,
        Decimal("0.22"),
        (
            _City("Roma", "RM", _codes("00", 118, 199, 3)),
            _City("Milano", "MI", _codes("20", 121, 162, 3)),
            _City("Napoli", "NA", _codes("80", 121, 147, 3)),
            _City("Torino", "TO", _codes("10", 121, 156, 3)),
            _City("Firenze", "FI", _codes("50", 121, 145, 3)),
            _City("Bologna", "BO", _codes("40", 121, 141, 3)),
        ),
        _names(
            "Via Roma, Via Garibaldi, Corso Vittorio Emanuele II, Via Dante, Via Mazzini, Viale dei Mille, "
            "Via Verdi, Corso Italia"
        ),
        "{s} {n}",
        ("%", "%#", "1%#"),
        ("Scala @", "Interno %", "Piano %"),
        ("+39 3## ### ####",),
        _names("Leonardo, Francesco, Alessandro, Lorenzo, Mattia, Giuseppe, Marco, Luca, Davide, Andrea"),
        _names("Sofia, Giulia, Aurora, Alice, Ginevra, Chiara, Francesca, Martina, Sara, Elena"),
        _names("Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno, Gallo"),
        (2, 79, 87, 93, 151),
        letters="ABCD",
    ),
    _Country(
        "NL",
        "Netherlands",
        "nl",
        "EUR",
        4,
        Decimal("0.21"),
        (
            _City("Amsterdam", "Noord-Holland", ("10%# @@",)),
            _City("Rotterdam", "Zuid-Holland", ("30%# @@",)),
            _City("Utrecht", "Utrecht", ("35%# @@",)),
            _City("Den Haag", "Zuid-Holland", ("25%# @@",)),
            _City("Eindhoven", "Noord-Brabant", ("56%# @@",)),
            _City("Groningen", "Groningen", ("97%# @@",)),
        ),
        _names("Keizersgracht, Prinsengracht, Dorpsstraat, Kerkstraat, Molenweg, Stationsweg, Julianalaan, Beukenlaan"),
        "{s} {n}",
        ("%", "%#", "%#A", "1%#"),
        ("% hoog", "hs"),
        ("+31 6 ########",),
        _names("Daan, Sem, Lucas, Levi, Bram, Thijs, Ruben, Jesse, Milan, Finn"),
        _names("Emma, Julia, Mila, Tess, Sophie, Fenna, Anouk, Sanne, Lotte, Eva"),
        _names("de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, Meijer, de Boer, Mulder"),
        (77, 84, 94, 145),
        letters="ABCDEGHJKLMNPRTVWXZ",
    ),
    _Country(
        "PL",
        "Poland",
        "pl",
        "PLN",
        4,
        Decimal("0.23"),
        (
            _City("Warszawa", "mazowieckie", ("00-###", "01-###", "02-###", "03-###", "04-###")),
            _City("Kraków", "małopolskie", ("30-###", "31-###")),
            _City("Wrocław", "dolnośląskie", ("50-###", "51-###", "53-###", "54-###")),
            _City("Gdańsk", "pomorskie", ("80-###",)),
            _City("Poznań", "wielkopolskie", ("60-###", "61-###")),
            _City("Łódź", "łódzkie", ("90-###", "91-###", "92-###", "93-###")),
        ),
        _names(
            "ul. Marszałkowska, ul. Piotrkowska, ul. Długa, ul. Mickiewicza, ul. Słowackiego, "
            "al. Jerozolimskie, ul. Kościuszki, ul. Ogrodowa"
        ),
        "{s} {n}",
        ("%", "%#", "%#@", "1%#"),
        ("m. %", "m. %#", "lok. %"),
        ("+48 5## ### ###", "+48 6## ### ###", "+48 7## ### ###", "+48 88# ### ###"),
        _names("Jakub, Jan, Antoni, Szymon, Aleksander, Piotr, Tomasz, Michał, Krzysztof, Marek"),
        _names("Zuzanna, Julia, Maja, Zofia, Hanna, Agnieszka, Katarzyna, Magdalena, Anna, Alicja"),
        _names(
            "Nowak, Wójcik, Kowalczyk, Woźniak, Mazur, Krawczyk, Kaczmarek, Zając, Król, Wieczorek, "
            "Kowalski|Kowalska, Wiśniewski|Wiśniewska, Lewandowski|Lewandowska"
        ),
        (31, 46, 83, 89, 178),
        letters="ABCD",
    ),
    _Country(
        "JP",
        "Japan",
        "ja",
        "JPY",
        6,
        Decimal("0.10"),
        (
            _City("Tokyo", "Tokyo", ("10%-####", "11%-####", "13%-####", "15%-####", "16%-####")),
            _City("Osaka", "Osaka", ("53%-####", "54%-####")),
            _City("Yokohama", "Kanagawa", ("22%-####", "23%-####")),
            _City("Kyoto", "Kyoto", ("60%-####",)),
            _City("Sapporo", "Hokkaido", ("06%-####",)),
            _City("Fukuoka", "Fukuoka", ("81%-####",)),
        ),
        _names("Honcho, Chuo, Nishiki, Sakuragaoka, Midorigaoka, Asahicho, Kotobukicho, Minamimachi"),
        "{n} {s}",
        ("%-%-%", "%-%#-%", "%-%-%#"),
        ("Room %0%", "Sunny Heights %0%", "Maison Sakura %0%"),
        ("+81 90-####-####", "+81 80-####-####", "+81 70-####-####"),
        _names("翔太/shota, 蓮/ren, 大翔/hiroto, 悠真/yuma, 健太/kenta, 拓海/takumi, 陽太/hinata, 大輔/daisuke"),
        _names("陽葵/himari, 結衣/yui, さくら/sakura, 美咲/misaki, 葵/aoi, 優子/yuko, 花子/hanako, 愛/ai"),
        _names(
            "佐藤/sato, 鈴木/suzuki, 高橋/takahashi, 田中/tanaka, 伊藤/ito, 渡辺/watanabe, 山本/yamamoto, "
            "中村/nakamura, 小林/kobayashi, 加藤/kato"
        ),
        (60, 114, 126, 133, 153),
        card_brands=("visa", "mastercard", "jcb", "amex"),
        markets=((Marketplace.AMAZON, 50), (Marketplace.SHOPIFY, 25), (Marketplace.OWN_SITE, 25)),
    ),
    _Country(
        "KR",
        "South Korea",
        "ko",
        "KRW",
        4,
        Decimal("0.10"),
        (
            _City("Seoul", "Seoul", ("01###", "02###", "03###", "04###", "05###", "06###", "07###", "08###")),
            _City("Busan", "Busan", ("46###", "47###", "48###", "49###")),
            _City("Incheon", "Incheon", ("21###", "22###", "23###")),
            _City("Daegu", "Daegu", ("41###", "42###")),
            _City("Daejeon", "Daejeon", ("34###", "35###")),
        ),
        _names("Teheran-ro, Gangnam-daero, Sejong-daero, Haeundae-ro, Olympic-ro, Dongil-ro, Jungang-ro"),
        "{n} {s}",
        ("%", "%#", "%##"),
        ("Apt %0%-%#0%", "%0%-dong %0%-ho", "Unit %0%"),
        ("+82 10-####-####",),
        _names("민준/minjun, 서준/seojun, 도윤/doyun, 지호/jiho, 현우/hyunwoo, 준서/junseo, 성민/sungmin"),
        _names("서연/seoyeon, 지우/jiwoo, 하은/haeun, 수아/sua, 민지/minji, 지민/jimin, 유나/yuna"),
        _names("김/kim, 이/lee, 박/park, 최/choi, 정/jung, 강/kang, 조/cho, 윤/yoon, 장/jang, 임/lim"),
        (1, 14, 27, 39, 58, 112, 121, 211),
        markets=_DIRECT_MARKETS,
    ),
    _Country(
        "BR",
        "Brazil",
        "pt",
        "BRL",
        5,
        Decimal("0.17"),
        (
            _City("São Paulo", "SP", ("01###-###", "02###-###", "03###-###", "04###-###", "05###-###"), "11"),
            _City("Rio de Janeiro", "RJ", ("20###-###", "21###-###", "22###-###"), "21"),
            _City("Belo Horizonte", "MG", ("30###-###", "31###-###"), "31"),
            _City("Curitiba", "PR", ("80###-###", "81###-###"), "41"),
            _City("Porto Alegre", "RS", ("90###-###", "91###-###"), "51"),
            _City("Salvador", "BA", ("40###-###", "41###-###"), "71"),
        ),
        _names(
            "Rua das Flores, Avenida Paulista, Rua Augusta, Rua XV de Novembro, Avenida Brasil, "
            "Rua da Consolação, Rua Oscar Freire, Avenida Atlântica"
        ),
        "{s}, {n}",
        ("%", "%#", "%##", "%###"),
        ("Apto %#", "Casa %", "Bloco @, Apto %0%"),
        ("+55 {area} 9####-####",),
        _names("Miguel, Arthur, Gael, Heitor, Davi, Gabriel, Pedro, Rafael, Lucas, Bernardo"),
        _names("Helena, Alice, Laura, Maria Clara, Valentina, Beatriz, Júlia, Manuela, Lívia, Ana"),
        _names("Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes, Costa, Ribeiro"),
        (177, 179, 187, 189, 191, 200, 201),
        letters="ABCD",
        card_brands=("visa", "mastercard", "elo"),
    ),
    _Country(
        "TR",
        "Türkiye",
        "tr",
        "TRY",
        3,
        Decimal("0.20"),
        (
            _City("İstanbul", "İstanbul", ("34###",)),
            _City("Ankara", "Ankara", ("06###",)),
            _City("İzmir", "İzmir", ("35###",)),
            _City("Bursa", "Bursa", ("16###",)),
            _City("Antalya", "Antalya", ("07###",)),
        ),
        _names(
            "Atatürk Caddesi, İstiklal Caddesi, Cumhuriyet Caddesi, Bağdat Caddesi, Lale Sokak, Gül Sokak, "
            "Gazi Mustafa Kemal Bulvarı"
        ),
        "{s} No: {n}",
        ("%", "%#", "%##"),
        ("Daire %", "Kat %, Daire %#", "D: %#"),
        ("+90 5%# ### ## ##",),
        _names("Yusuf, Eymen, Mustafa, Ali, Emre, Mehmet, Ahmet, Burak, Can, Kerem"),
        _names("Zeynep, Elif, Defne, Ayşe, Esra, Büşra, Ebru, Merve, Selin, Derya"),
        _names("Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Yıldırım, Öztürk, Aydın, Özdemir, Arslan, Doğan"),
        (78, 85, 88, 176, 212),
    ),
    _Country(
        "MX",
        "Mexico",
        "es",
        "MXN",
        4,
        Decimal("0.16"),
        (
            _City("Ciudad de México", "CDMX", ("01###", "03###", "06###", "11###", "14###"), "55"),
            _City("Guadalajara", "Jalisco", ("44###",), "33"),
            _City("Zapopan", "Jalisco", ("45###",), "33"),
            _City("Monterrey", "Nuevo León", ("64###",), "81"),
            _City("San Pedro Garza García", "Nuevo León", ("66###",), "81"),
        ),
        _names(
            "Avenida Insurgentes Sur, Paseo de la Reforma, Calle Hidalgo, Avenida Juárez, Calle Morelos, "
            "Avenida Revolución, Calle 5 de Mayo"
        ),
        "{s} {n}",
        ("%", "%#", "%##", "%###"),
        ("Int. %", "Depto. %0%", "Int. %@"),
        ("+52 {area} #### ####",),
        _names("Santiago, Mateo, Sebastián, Leonardo, Emiliano, Diego, José, Luis, Carlos, Miguel Ángel"),
        _names("Sofía, Valentina, Regina, Camila, Ximena, María José, Fernanda, Daniela, Guadalupe, Andrea"),
        _names("Hernández, García, Martínez, López, González, Pérez, Rodríguez, Sánchez, Ramírez, Cruz, Flores, Gómez"),
        (187, 189, 200, 201),
        letters="ABCD",
    ),
    _Country(
        "CN",
        "China",
        "zh",
        "CNY",
        3,
        Decimal("0.091"),
        (
            _City("Beijing", "Beijing", ("100###", "101###")),
            _City("Shanghai", "Shanghai", ("200###", "201###")),
            _City("Guangzhou", "Guangdong", ("510###",)),
            _City("Shenzhen", "Guangdong", ("518###",)),
            _City("Hangzhou", "Zhejiang", ("310###",)),
            _City("Chengdu", "Sichuan", ("610###",)),
        ),
        _names("Jianguo Road, Nanjing Road, Zhongshan Road, Renmin Road, Jiefang Road, Huaihai Road, Shennan Avenue"),
        "No. {n} {s}",
        ("%", "%#", "%##"),
        ("Room %0%, Building %", "Unit %, Room %0%"),
        ("+86 13# #### ####", "+86 15# #### ####", "+86 18# #### ####"),
        _names("伟/wei, 强/qiang, 磊/lei, 洋/yang, 俊杰/junjie, 浩然/haoran, 子轩/zixuan, 宇航/yuhang"),
        _names("静/jing, 丽/li, 敏/min, 婷/ting, 雪/xue, 欣怡/xinyi, 梓涵/zihan, 芳/fang"),
        _names("王/wang, 李/li, 张/zhang, 刘/liu, 陈/chen, 杨/yang, 黄/huang, 赵/zhao, 吴/wu, 周/zhou"),
        (36, 58, 101, 112, 113, 117, 180, 183),
        card_brands=("unionpay", "visa", "mastercard"),
        markets=_DIRECT_MARKETS,
    ),
    _Country(
        "SA",
        "Saudi Arabia",
        "ar",
        "SAR",
        3,
        Decimal("0.15"),
        (
            _City("Riyadh", "Riyadh Province", ("11###", "12###", "13###")),
            _City("Jeddah", "Makkah Province", ("21###", "23###")),
            _City("Dammam", "Eastern Province", ("31###", "32###")),
            _City("Mecca", "Makkah Province", ("24###",)),
            _City("Medina", "Madinah Province", ("42###",)),
        ),
        _names("King Fahd Road, Olaya Street, Prince Sultan Road, Tahlia Street, King Abdulaziz Road, Al Madinah Road"),
        "{n} {s}",
        ("%###",),
        ("Unit %", "Unit %#", "Floor %, Unit %"),
        ("+966 5% ### ####",),
        _names("محمد/mohammed, عبدالله/abdullah, فهد/fahad, خالد/khalid, فيصل/faisal, عمر/omar, سلطان/sultan"),
        _names("نورة/noura, سارة/sara, ريم/reem, لمى/lama, فاطمة/fatimah, هيا/haya, جود/joud"),
        _names(
            "القحطاني/alqahtani, الغامدي/alghamdi, العتيبي/alotaibi, الحربي/alharbi, الزهراني/alzahrani, "
            "الشهري/alshehri, المطيري/almutairi, الدوسري/aldosari"
        ),
        (5, 37, 46, 51, 188),
        markets=((Marketplace.AMAZON, 40), (Marketplace.SHOPIFY, 35), (Marketplace.OWN_SITE, 25)),
    ),
    _Country(
        "KZ",
        "Kazakhstan",
        "ru",
        "KZT",
        2,
        Decimal("0.12"),
        (
            # Kazpost's postcode since 2015: region letter, two digits, then letter-digit-letter-digit.
            _City("Almaty", "Almaty", ("A01@#@#", "A05@#@#", "A10@#@#", "A15@#@#", "A25@#@#")),
            _City("Astana", "Astana", ("Z00@#@#", "Z01@#@#", "Z05@#@#", "Z10@#@#")),
            _City("Karaganda", "Karaganda Region", ("M00@#@#", "M01@#@#")),
        ),
        _names(
            "Abay Avenue, Dostyk Avenue, Tole Bi Street, Satpayev Street, Kabanbay Batyr Avenue, Furmanov Street, Republic Avenue"
        ),
        "{s} {n}",
        ("%", "%#", "%##"),
        ("apt. %", "apt. %#", "apt. %##"),
        ("+7 70% ### ## ##", "+7 747 ### ## ##", "+7 77% ### ## ##"),
        _names("Александр/aleksandr, Дмитрий/dmitry, Ерлан/erlan, Нурлан/nurlan, Артём/artem, Тимур/timur"),
        _names("Айгерим/aigerim, Ольга/olga, Анна/anna, Динара/dinara, Екатерина/ekaterina, Алия/aliya"),
        _names(
            "Иванов|Иванова/ivanov|ivanova, Нурланов|Нурланова/nurlanov|nurlanova, "
            "Ахметов|Ахметова/akhmetov|akhmetova, Смирнов|Смирнова/smirnov|smirnova, "
            "Сулейменов|Сулейменова/suleimenov|suleimenova, Ким/kim, Попов|Попова/popov|popova"
        ),
        (2, 37, 89, 92, 178),
        letters="ABCDEFHKMNPRSTXY",
        markets=_DIRECT_MARKETS,
    ),
)

COUNTRY_BY_CODE: dict[str, _Country] = {c.code: c for c in COUNTRIES}


@dataclass(frozen=True)
class _WarehouseSpec:
    id: str
    name: str
    country_code: str
    city: str


WAREHOUSES: tuple[_WarehouseSpec, ...] = (
    _WarehouseSpec("us_edison", "Edison NJ Fulfilment Center", "US", "Edison, NJ"),
    _WarehouseSpec("de_leipzig", "Leipzig EU Hub", "DE", "Leipzig"),
    _WarehouseSpec("gb_coventry", "Coventry UK Warehouse", "GB", "Coventry"),
    _WarehouseSpec("cn_shenzhen", "Shenzhen Bonded Warehouse", "CN", "Shenzhen"),
    _WarehouseSpec("jp_chiba", "Chiba Japan Warehouse", "JP", "Ichikawa, Chiba"),
)
WAREHOUSE_BY_ID: dict[str, _WarehouseSpec] = {w.id: w for w in WAREHOUSES}

# Which warehouse fulfils orders for a destination, and how often.
FULFILMENT: dict[str, tuple[tuple[str, int], ...]] = {
    "US": (("us_edison", 80), ("cn_shenzhen", 20)),
    "MX": (("us_edison", 75), ("cn_shenzhen", 25)),
    "BR": (("us_edison", 60), ("cn_shenzhen", 40)),
    "GB": (("gb_coventry", 80), ("de_leipzig", 10), ("cn_shenzhen", 10)),
    "JP": (("jp_chiba", 80), ("cn_shenzhen", 20)),
    "KR": (("jp_chiba", 60), ("cn_shenzhen", 40)),
    "CN": (("cn_shenzhen", 100),),
    "TR": (("de_leipzig", 50), ("cn_shenzhen", 50)),
    "SA": (("de_leipzig", 50), ("cn_shenzhen", 50)),
    "KZ": (("de_leipzig", 40), ("cn_shenzhen", 60)),
}
_EU_FULFILMENT: tuple[tuple[str, int], ...] = (("de_leipzig", 85), ("cn_shenzhen", 15))

# Where parcels are sorted or cross borders: a carrier's own hub where it has one, else the country's gateway.
GATEWAYS: dict[str, str] = {
    "US": "Jamaica, NY",
    "GB": "East Midlands",
    "DE": "Leipzig",
    "FR": "Roissy-en-France",
    "ES": "Madrid",
    "IT": "Milano Malpensa",
    "NL": "Amsterdam Schiphol",
    "PL": "Warszawa",
    "JP": "Narita",
    "KR": "Incheon",
    "BR": "Campinas",
    "TR": "İstanbul",
    "MX": "Ciudad de México",
    "CN": "Shenzhen",
    "SA": "Riyadh",
    "KZ": "Almaty",
}
CARRIER_HUBS: dict[tuple[str, str], str] = {
    ("ups", "US"): "Louisville, KY",
    ("fedex", "US"): "Memphis, TN",
    ("dhl", "US"): "Cincinnati, OH",
    ("usps", "US"): "Jersey City, NJ",
    ("dpd", "DE"): "Aschaffenburg",
    ("ups", "DE"): "Köln",
    ("fedex", "DE"): "Köln",
    ("dpd", "GB"): "Hinckley",
    ("fedex", "CN"): "Guangzhou",
    ("ups", "CN"): "Shenzhen",
    ("fedex", "FR"): "Roissy-en-France",
    ("ups", "PL"): "Warszawa",
}

SHIPPING_USD: dict[ServiceLevel, Decimal] = {
    ServiceLevel.ECONOMY: Decimal("4.99"),
    ServiceLevel.STANDARD: Decimal("7.99"),
    ServiceLevel.EXPRESS: Decimal("19.99"),
}
FREE_SHIPPING_FROM_USD = Decimal("75")
_LEVEL_WEIGHTS: dict[ServiceLevel, int] = {ServiceLevel.ECONOMY: 3, ServiceLevel.STANDARD: 5, ServiceLevel.EXPRESS: 2}

CANCEL_REASONS = (
    "no longer needed",
    "ordered by mistake",
    "found a better price elsewhere",
    "delivery estimate too slow",
    "wrong shipping address entered",
)
RETURN_REASONS = (
    "does not fit",
    "changed my mind",
    "not as described",
    "arrived too late",
    "quality below expectations",
    "ordered the wrong size",
)
CUSTOMS_HOLD_REASONS = (
    "Held by import customs: import duties and taxes unpaid",
    "Held by import customs: commercial invoice required",
    "Held by import customs: recipient identification required",
    "Held by import customs: declared value under review",
)
DELIVERED_SIGNED = (
    "Delivered: signed for by recipient",
    "Delivered: handed to resident",
    "Delivered to parcel locker",
    "Delivered: left with neighbour",
)
DELIVERED_UNSIGNED = ("Delivered: left at front door", "Delivered to mailbox", "Delivered: left in a safe place")
IN_TRANSIT_SCANS = ("In transit", "Processed through sort facility", "In transit to next facility")


# ---------------------------------------------------------------- catalogue

_CATALOGUE: tuple[tuple[str, str, int, dict[str, tuple[str, ...]]], ...] = (
    (
        "T-Shirt",
        "Apparel",
        24,
        {
            "color": ("white", "black", "navy", "red", "heather grey"),
            "size": ("S", "M", "L", "XL"),
            "material": ("cotton", "organic cotton"),
        },
    ),
    ("Hoodie", "Apparel", 49, {"color": ("black", "grey", "forest green", "burgundy"), "size": ("S", "M", "L", "XL")}),
    (
        "Slim Jeans",
        "Apparel",
        59,
        {"waist": ("28", "30", "32", "34", "36"), "length": ("30", "32", "34"), "color": ("indigo", "black")},
    ),
    ("Rain Jacket", "Apparel", 89, {"color": ("yellow", "navy", "olive"), "size": ("S", "M", "L", "XL")}),
    (
        "Wool Scarf",
        "Accessories",
        35,
        {"color": ("camel", "charcoal", "red tartan"), "material": ("merino wool", "cashmere blend")},
    ),
    (
        "Running Shoes",
        "Footwear",
        95,
        {"color": ("black/white", "blue", "neon green"), "size": ("EU 38", "EU 39", "EU 40", "EU 41", "EU 42", "EU 43", "EU 44")},
    ),
    (
        "Leather Sneakers",
        "Footwear",
        110,
        {"color": ("white", "black", "tan"), "size": ("EU 37", "EU 38", "EU 39", "EU 40", "EU 42", "EU 44")},
    ),
    (
        "Travel Backpack",
        "Bags",
        79,
        {"color": ("black", "grey", "navy"), "capacity": ("25L", "35L"), "material": ("nylon", "recycled polyester")},
    ),
    ("Canvas Tote Bag", "Bags", 22, {"color": ("natural", "black", "olive"), "print": ("plain", "botanical", "city skyline")}),
    ("Leather Wallet", "Accessories", 45, {"color": ("brown", "black"), "style": ("bifold", "card holder", "zip-around")}),
    ("Polarized Sunglasses", "Accessories", 65, {"frame": ("black", "tortoise", "gold"), "lens": ("grey", "brown", "green")}),
    (
        "Stainless Water Bottle",
        "Outdoor",
        28,
        {"capacity": ("500ml", "750ml", "1000ml"), "color": ("white", "black", "sage", "coral")},
    ),
    ("Wireless Earbuds", "Electronics", 79, {"color": ("black", "white", "blue"), "case": ("standard", "wireless charging")}),
    ("Bluetooth Speaker", "Electronics", 59, {"color": ("black", "red", "teal"), "size": ("mini", "standard")}),
    (
        "Smart Watch",
        "Electronics",
        199,
        {"case size": ("40mm", "44mm"), "color": ("black", "silver", "rose gold"), "band": ("silicone", "leather", "steel")},
    ),
    ("Fitness Tracker", "Electronics", 69, {"color": ("black", "lilac", "mint"), "band size": ("S/M", "L/XL")}),
    (
        "Phone Case",
        "Electronics",
        19,
        {"model": ("iPhone 15", "iPhone 16", "Galaxy S24", "Pixel 9"), "color": ("clear", "black", "pink")},
    ),
    ("Power Bank", "Electronics", 39, {"capacity": ("10000mAh", "20000mAh"), "color": ("black", "white")}),
    ("USB-C Hub", "Electronics", 45, {"ports": ("5-in-1", "7-in-1", "9-in-1"), "color": ("space grey", "silver")}),
    (
        "Mechanical Keyboard",
        "Electronics",
        119,
        {"switch": ("red", "brown", "blue"), "layout": ("US ANSI", "UK ISO", "DE ISO"), "backlight": ("white", "RGB")},
    ),
    (
        "Wireless Mouse",
        "Electronics",
        35,
        {"color": ("black", "white", "graphite"), "connectivity": ("Bluetooth", "2.4GHz receiver")},
    ),
    ("Action Camera", "Electronics", 249, {"resolution": ("4K", "5.3K"), "bundle": ("standard", "adventure kit")}),
    ("Desk Lamp", "Home", 49, {"color": ("black", "white", "brass"), "brightness": ("standard", "high")}),
    ("Scented Candle", "Home", 24, {"scent": ("lavender", "sandalwood", "fig", "sea salt"), "size": ("200g", "400g")}),
    ("Ceramic Vase", "Home", 39, {"color": ("matte white", "terracotta", "sage"), "height": ("20cm", "30cm")}),
    ("Linen Bedding Set", "Home", 139, {"size": ("single", "double", "king"), "color": ("white", "oat", "sage", "charcoal")}),
    ("Silk Pillowcase", "Home", 45, {"color": ("ivory", "champagne", "blush", "navy"), "size": ("standard", "king")}),
    ("Wall Clock", "Home", 55, {"color": ("black", "oak", "white"), "diameter": ("30cm", "40cm")}),
    (
        "Electric Kettle",
        "Kitchen",
        69,
        {"capacity": ("1L", "1.7L"), "color": ("matte black", "stainless", "cream"), "plug": ("US", "EU", "UK")},
    ),
    ("Coffee Grinder", "Kitchen", 89, {"type": ("burr", "blade"), "color": ("black", "white")}),
    ("French Press", "Kitchen", 32, {"capacity": ("350ml", "1L"), "material": ("glass", "stainless steel")}),
    ("Chef's Knife", "Kitchen", 79, {"blade": ("20cm", "24cm"), "steel": ("German steel", "Damascus")}),
    ("Yoga Mat", "Sports", 42, {"thickness": ("4mm", "6mm"), "color": ("purple", "black", "sand", "teal")}),
    ("Resistance Band Set", "Sports", 29, {"level": ("light", "medium", "heavy"), "color": ("multi", "black")}),
    ("Adjustable Dumbbells", "Sports", 179, {"weight": ("2x12kg", "2x24kg"), "finish": ("black", "chrome")}),
    ("Camping Tent", "Outdoor", 189, {"capacity": ("2-person", "4-person"), "season": ("3-season", "4-season")}),
    ("Sleeping Bag", "Outdoor", 99, {"temperature": ("0°C", "-10°C"), "color": ("green", "orange")}),
    ("Dog Leash", "Pets", 25, {"color": ("black", "red", "blue"), "length": ("1.2m", "2m", "5m retractable")}),
    ("Pet Bed", "Pets", 59, {"size": ("S", "M", "L"), "color": ("grey", "beige")}),
    ("Building Blocks Set", "Toys", 49, {"theme": ("city", "space", "castle"), "pieces": ("500", "1000")}),
    ("Jigsaw Puzzle", "Toys", 25, {"pieces": ("500", "1000", "2000"), "theme": ("mountains", "world map", "cats")}),
    ("Skincare Set", "Beauty", 65, {"skin type": ("dry", "oily", "combination"), "size": ("travel", "full")}),
    ("Eau de Parfum", "Beauty", 85, {"scent": ("citrus", "woody", "floral"), "size": ("50ml", "100ml")}),
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
    events: list[TrackingEvent] = field(default_factory=list)


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
        self._seen: set[str] = set()

    def draw(self, make: Callable[[random.Random], str]) -> str:
        while True:
            value = make(self._rng)
            if value not in self._seen:
                self._seen.add(value)
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


_ASCII_FOLD = str.maketrans({"ß": "ss", "ł": "l", "Ł": "L", "ı": "i", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d"})


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
        self.rng = random.Random(seed)
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
        for position, (name, category, base, axes) in enumerate(_CATALOGUE):
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
                email = f"{local}{rng.randint(1, 9999)}@{rng.choice(('example.com', 'example.net', 'example.org'))}"
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
            weight = _weighted(rng, ((1, 80), (3, 15), (10, 5)))
            self.customers.append(_CustomerDraft(customer, country, methods, weight))

    def _payment_methods(self, customer: Customer, country: _Country) -> list[PaymentMethod]:
        rng = self.rng
        count = _weighted(rng, ((1, 50), (2, 35), (3, 15)))
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
                balance = Decimal(rng.choice((0, 10, 25, 40, 50, 75, 100, 150, 200)))
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

        planted = [
            ("customs_hold", share(20)),
            ("stalled", share(16)),
            ("late", share(16)),
            ("returned_to_sender", share(10)),
            ("delivered_not_received", share(14)),
            ("damaged_on_arrival", share(14)),
            ("wrong_variant_shipped", share(14)),
            ("duplicate", share(12)),
        ]
        plan: list[str] = []
        budget = n // 2  # a tiny shop still gets mostly ordinary orders
        for scenario, count in planted:
            cost = 2 if scenario == "duplicate" else 1  # a duplicate is two orders
            taken = min(count, budget // cost)
            plan += [scenario] * taken
            budget -= taken * cost
        rest = n - sum(2 if p == "duplicate" else 1 for p in plan)
        # Trimmed so that, planted cases included, pending/processed/delivered/cancelled/other is about 20/30/40/5/5.
        ordinary = [
            ("pending", 19),
            ("processed", 27),
            ("delivered", 38),
            ("cancelled", 5),
            ("return_requested", 3),
            ("exchange_requested", 2),
        ]
        plan += [_weighted(rng, ordinary) for _ in range(rest)]
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
        lines = _weighted(rng, ((1, 50), (2, 28), (3, 14), (4, 8)))
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
            quantity = _weighted(rng, ((1, 82), (2, 14), (3, 4)))
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
        carriers: tuple[tuple[str, int], ...]
        if origin == country.code == "US":
            carriers = (("usps", 45), ("ups", 30), ("fedex", 25))
        elif origin == country.code == "GB":
            carriers = (("dpd", 55), ("ups", 45))
        elif origin in EU and country.code in EU:
            carriers = (("dpd", 50), ("dhl", 50))
        elif origin == "CN" and country.code != "CN":
            carriers = (("yunexpress", 60), ("dhl", 20), ("fedex", 20))
        else:
            carriers = (("dhl", 40), ("ups", 30), ("fedex", 30))
        carrier = CARRIERS[_weighted(rng, carriers)]
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
        if rng.random() < 0.03:
            draft.transactions.append(
                PaymentTransaction(
                    position=0,
                    kind=TransactionKind.PAYMENT,
                    status=TransactionStatus.FAILED,
                    amount=order.total,
                    payment_method_id=method.id,
                    created_at=order.placed_at + dt.timedelta(seconds=2),
                )
            )
            method = rng.choice(methods)
        draft.transactions.append(
            PaymentTransaction(
                position=len(draft.transactions),
                kind=TransactionKind.PAYMENT,
                status=TransactionStatus.SUCCEEDED,
                amount=order.total,
                payment_method_id=method.id,
                created_at=paid_at,
            )
        )
        if order.status == OrderStatus.CANCELLED:
            assert order.cancelled_at is not None
            refunded_at = order.cancelled_at + dt.timedelta(seconds=rng.randint(60, 3 * 3600))
            draft.transactions.append(
                PaymentTransaction(
                    position=len(draft.transactions),
                    kind=TransactionKind.REFUND,
                    status=TransactionStatus.SUCCEEDED,
                    amount=order.total,
                    payment_method_id=method.id,
                    created_at=refunded_at,
                )
            )
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
        failure = rng.choice(
            (
                "Delivery attempted: recipient not available",
                "Delivery attempted: address incomplete",
                "Delivery refused by recipient",
            )
        )
        for day in range(2):
            t += _hours(rng.uniform(10.0, 14.0) if day == 0 else rng.uniform(20.0, 26.0))
            seen.append(_Stop(t, TrackingCode.OUT_FOR_DELIVERY, "Out for delivery", depot.location, depot.country_code))
            t += _hours(rng.uniform(2.0, 6.0))
            seen.append(_Stop(t, TrackingCode.DELIVERY_FAILED, failure, depot.location, depot.country_code))
        t += _hours(rng.uniform(3.0, 8.0))
        seen.append(
            _Stop(
                t,
                TrackingCode.ARRIVED_AT_HUB,
                "Held at the delivery depot awaiting collection",
                depot.location,
                depot.country_code,
            )
        )
        t += _days(rng.uniform(5.0, 8.0))
        seen.append(
            _Stop(t, TrackingCode.RETURNED_TO_SENDER, "Not collected: returning to sender", depot.location, depot.country_code)
        )
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
                f"Shipment information received by {carrier.name}",
                warehouse,
                origin.country_code,
            ),
            _Stop(
                dt.timedelta(0), TrackingCode.PICKED_UP, "Picked up from the seller's warehouse", warehouse, origin.country_code
            ),
            _Stop(
                at(0.1), TrackingCode.ARRIVED_AT_HUB, f"Arrived at {carrier.name} sort facility", origin_hub, origin.country_code
            ),
        ]
        if origin.country_code == dest_cc:
            stops.append(_Stop(at(0.3), TrackingCode.IN_TRANSIT, "Departed sort facility", origin_hub, origin.country_code))
        else:
            if customs:
                stops.append(
                    _Stop(
                        at(0.16),
                        TrackingCode.EXPORT_CLEARED,
                        "Export customs clearance completed",
                        origin_hub,
                        origin.country_code,
                    )
                )
            stops.append(
                _Stop(
                    at(0.22),
                    TrackingCode.IN_TRANSIT,
                    f"Departed {origin_city}, in transit to {dest_country}",
                    origin_hub,
                    origin.country_code,
                )
            )
            stops.append(
                _Stop(
                    at(0.5), TrackingCode.ARRIVED_AT_HUB, "Arrived at destination gateway", dest_hub, dest_cc, stage="destination"
                )
            )
            if customs:
                if hold_clears:
                    stops.append(_Stop(at(0.54), TrackingCode.CUSTOMS_HOLD, rng.choice(CUSTOMS_HOLD_REASONS), dest_hub, dest_cc))
                stops.append(
                    _Stop(at(0.6), TrackingCode.CUSTOMS_CLEARED, "Import customs clearance completed", dest_hub, dest_cc)
                )
            stops.append(
                _Stop(at(0.66), TrackingCode.IN_TRANSIT, f"Departed facility, in transit to {order.ship_city}", dest_hub, dest_cc)
            )
        if damaged:
            stops.append(
                _Stop(at(0.75), TrackingCode.DAMAGED, "Parcel damaged in transit, repackaged at facility", dest_hub, dest_cc)
            )
        stops.append(_Stop(at(0.85), TrackingCode.ARRIVED_AT_HUB, "Arrived at local delivery facility", local, dest_cc))
        delivered = _days(d)
        if not unsigned and d >= 2.5 and rng.random() < 0.06:
            first_try = delivered - _days(1.0)
            stops.append(
                _Stop(
                    first_try - _hours(rng.uniform(2.0, 5.0)), TrackingCode.OUT_FOR_DELIVERY, "Out for delivery", local, dest_cc
                )
            )
            stops.append(
                _Stop(first_try, TrackingCode.DELIVERY_FAILED, "Delivery attempted: recipient not available", local, dest_cc)
            )
        stops.append(
            _Stop(delivered - _hours(rng.uniform(2.0, 6.0)), TrackingCode.OUT_FOR_DELIVERY, "Out for delivery", local, dest_cc)
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
                    scan = f"In transit to {stop.location}" if crossing else rng.choice(IN_TRANSIT_SCANS)
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
            shipped_at=shipped_at,
            promised_delivery_date=shipped_at.date() + dt.timedelta(days=transit),
            delivered_at=delivered_at,
            is_reshipment=False,
        )
        draft.shipments.append(_ShipmentDraft(shipment, stops))

    def _tracking_number(self, carrier: Carrier) -> str:
        prefix = carrier.tracking_prefix

        def make(r: random.Random) -> str:
            if carrier.code == "ups":
                account = "".join(r.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(6))
                return f"{prefix}{account}{r.choice(('01', '02', '03', '12'))}{r.randrange(10**8):08d}"
            digits = {"usps": 20, "dhl": 16, "yunexpress": 16, "fedex": 12, "dpd": 12}.get(carrier.code, 12)
            return f"{prefix}{r.randrange(10**digits):0{digits}d}"

        return self.ids.draw(make)

    # ------------------------------------------------------------ numbering and totals

    def finalise(self) -> None:
        """Number orders the way each marketplace does, in the order they were placed; link every row."""
        rng = self.rng
        self.orders.sort(key=lambda d: (d.order.placed_at, d.seq))
        shopify_next = 1001
        item_id = transaction_id = refund_id = shipment_id = event_id = return_id = exchange_id = 1
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
            for item in draft.items:
                item.id, item.order_id = item_id, order.id
                item_id += 1
            for txn in draft.transactions:
                txn.id, txn.order_id = transaction_id, order.id
                transaction_id += 1
            for refund in draft.refunds:
                refund.id, refund.order_id = refund_id, order.id
                refund_id += 1
            for ship in draft.shipments:
                ship.shipment.id, ship.shipment.order_id = shipment_id, order.id
                shipment_id += 1
            for ret in draft.returns:
                ret.id, ret.order_id = return_id, order.id
                return_id += 1
            for exchange in draft.exchanges:
                exchange.id, exchange.order_id = exchange_id, order.id
                exchange_id += 1
        for draft in self.orders:
            if draft.duplicate_of is not None:
                draft.order.duplicate_of = draft.duplicate_of.order.id
        for draft in self.orders:
            for ship in draft.shipments:
                assert ship.shipment.shipped_at is not None
                ship.events = [
                    TrackingEvent(
                        id=event_id + i,
                        shipment_id=ship.shipment.id,
                        occurred_at=ship.shipment.shipped_at + stop.offset,
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

    def customer(
        seq: int, first: str, last: str, cc: str, country: str, address1: str, city: str, postal: str, phone: str, age_days: float
    ) -> tuple[Customer, PaymentMethod]:
        c = Customer(
            id=f"cus_X{seq}",
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}.x{seq}@example.net",
            phone=phone,
            preferred_language=languages.get(cc, "de"),
            country_code=cc,
            address1=address1,
            city=city,
            postal_code=postal,
            country=country,
            lifetime_value_currency="USD",
            created_at=now - _days(age_days),
        )
        card = PaymentMethod(
            id=f"credit_card_X{seq}",
            customer_id=c.id,
            kind=PaymentKind.CREDIT_CARD,
            brand=rng.choice(("visa", "mastercard")),
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
    lena, lena_card = customer(
        9001, "Lena", "Vogt", "DE", "Germany", "Packstation 145", "Berlin", "10115", "+49 151 2345 6789", 200
    )
    order(9001, lena, lena_card, _days(2.9), 2)
    marco, marco_card = customer(9002, "Marco", "Rossi", "IT", "Italy", "Via Roma", "Milano", "2012", "+44 7700 900123", 300)
    order(9002, marco, marco_card, _days(2.95), 1)
    # A first-order coupon on an account two days old, on a basket well above the usual.
    jonas, jonas_card = customer(
        9003, "Jonas", "Berg", "DE", "Germany", "Lindenstraße 8", "Hamburg", "20095", "+49 160 555 0142", 2
    )
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
    for seq, (first, last) in enumerate((("Tim", "Lenz"), ("Tom", "Lenz"), ("Tina", "Lenz")), start=9004):
        c, card = customer(
            seq, first, last, "DE", "Germany", f"Bahnhofstraße {seq - 9000}", "Köln", "50667", "+49 170 555 0100", 4
        )
        burst = order(seq, c, card, start - dt.timedelta(minutes=2 * (seq - 9004)), 1, ip="203.0.113.7")
        burst.status, burst.cancelled_at, burst.cancel_reason = OrderStatus.CANCELLED, now - _days(3), "payment review"
    # Paid six days ago, nothing shipped.
    eva, eva_card = customer(
        9007, "Eva", "Winter", "AT", "Austria", "Mariahilfer Straße 12", "Wien", "1060", "+43 660 555 0199", 90
    )
    order(9007, eva, eva_card, _days(6), 2)
    # Stock held for an order whose only payment attempt failed.
    paul, paul_card = customer(
        9008, "Paul", "Brandt", "DE", "Germany", "Hauptstraße 3", "München", "80331", "+49 171 555 0177", 60
    )
    order(9008, paul, paul_card, _days(4), 1, paid=False)
    # Refunded twice for one payment.
    nina, nina_card = customer(
        9009, "Nina", "Keller", "DE", "Germany", "Gartenweg 5", "Dresden", "01067", "+49 172 555 0133", 120
    )
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
