"""Countries of the demo customers: cities, postal codes, phones, company ids, tax, VAT."""
import re

from stdnum import luhn
from stdnum.at import uid as at_uid
from stdnum.es import cif as es_cif
from stdnum.ie import vat as ie_vat
from stdnum.iso7064 import mod_11_10
from stdnum.pt import nif as pt_nif

EU = {"DE", "FR", "ES", "IT", "NL", "BE", "AT", "IE", "PT", "PL", "SE", "DK", "FI"}
US_SALES_TAX_BP = {"TX": 825, "WA": 1025, "NY": 888, "PA": 600, "OH": 575, "TN": 925}
_EN_ADDR = ["{n} {s}", "{n} {s}", "{n} {s}, Apt {b}"]


def _country(weight, names, phone, streets, addr, suffixes, company_id, tax_id, tax_bp, cities):
    return {"weight": weight, "names": names.split(), "phone": phone, "streets": streets,
            "addr": addr, "suffixes": suffixes.split("|"), "company_id": company_id,
            "tax_id": tax_id, "tax_bp": tax_bp,
            "cities": [tuple(part or None for part in city.split("/"))
                       for city in cities.split(";")]}


VAT_ID = slice(2, None)  # company_id is the national part of the VAT number (or a slice of it)
# Postal codes and phone numbers are patterns: '#' is a digit, '@' an upper-case letter.
# Phone numbers use the ranges reserved for fiction where a country has one.
COUNTRIES = {
    "US": _country(30, "en", "+1 2##-555-01##", "en", _EN_ADDR, "LLC|Inc.", "#######",
                   "##-#######", 0,
                   "New York/NY/100##;Brooklyn/NY/112##;Los Angeles/CA/900##;"
                   "San Francisco/CA/941##;Austin/TX/787##;Houston/TX/770##;Chicago/IL/606##;"
                   "Seattle/WA/981##;Portland/OR/972##;Denver/CO/802##;Boston/MA/021##;"
                   "Miami/FL/331##;Philadelphia/PA/191##;Columbus/OH/432##;Nashville/TN/372##;"
                   "Phoenix/AZ/850##"),
    "GB": _country(8, "en", "+44 7700 900###", "en", ["{n} {s}"], "Ltd", "########", "##########",
                   2000,
                   "London/England/SW## #@@;London/England/E# #@@;Manchester/England/M## #@@;"
                   "Leeds/England/LS# #@@;Bristol/England/BS# #@@;Edinburgh/Scotland/EH# #@@;"
                   "Cardiff/Wales/CF## #@@;Belfast/Northern Ireland/BT# #@@"),
    "CA": _country(5, "en fr", "+1 4##-555-01##", "en", _EN_ADDR, "Inc.|Ltd.", "BC#######",
                   "#########RT0001", 500,
                   "Toronto/ON/M#@ #@#;Montréal/QC/H#@ #@#;Vancouver/BC/V#@ #@#;"
                   "Calgary/AB/T#@ #@#;Québec/QC/G#@ #@#"),
    "AU": _country(3, "en", "+61 491 570 ###", "en", ["{n} {s}"], "Pty Ltd", "### ### ###",
                   "## ### ### ###", 1000,
                   "Sydney/NSW/20##;Melbourne/VIC/30##;Brisbane/QLD/40##;Perth/WA/60##;"
                   "Hobart/TAS/70##"),
    "DE": _country(9, "de", "+49 15# ########", "de", ["{s} {n}"], "GmbH|UG (haftungsbeschränkt)",
                   "HRB ######", None, 1900,
                   "Berlin/Berlin/10###;München/Bayern/80###;Hamburg/Hamburg/20###;"
                   "Köln/Nordrhein-Westfalen/50###;Frankfurt am Main/Hessen/60###;"
                   "Stuttgart/Baden-Württemberg/70###;Leipzig/Sachsen/04###;"
                   "Nürnberg/Bayern/90###;Lübeck/Schleswig-Holstein/23###"),
    "FR": _country(7, "fr", "+33 6 ## ## ## ##", "fr", ["{n} {s}"], "SARL|SAS", slice(4, None),
                   None, 2000,
                   "Paris/Île-de-France/750##;Lyon/Auvergne-Rhône-Alpes/6900#;"
                   "Marseille/Provence-Alpes-Côte d'Azur/130##;Toulouse/Occitanie/310##;"
                   "Nantes/Pays de la Loire/440##;Strasbourg/Grand Est/670##;"
                   "Lille/Hauts-de-France/590##"),
    "ES": _country(5, "es", "+34 6## ### ###", "es", ["{s}, {n}"], "S.L.|S.A.", VAT_ID, None, 2100,
                   "Madrid/Madrid/280##;Barcelona/Cataluña/080##;"
                   "Valencia/Comunidad Valenciana/460##;Sevilla/Andalucía/410##;"
                   "Málaga/Andalucía/290##;Bilbao/País Vasco/480##;A Coruña/Galicia/150##"),
    "IT": _country(4, "it", "+39 3## ### ####", "it", ["{s} {n}"], "S.r.l.|S.p.A.", VAT_ID, None,
                   2200,
                   "Roma/RM/001##;Milano/MI/201##;Napoli/NA/801##;Torino/TO/101##;"
                   "Bologna/BO/401##;Firenze/FI/501##;Forlì/FC/4712#;Cantù/CO/2206#"),
    "NL": _country(3, "nl", "+31 6 ########", "nl", ["{s} {n}"], "B.V.", "########", None, 2100,
                   "Amsterdam/Noord-Holland/10## @@;Rotterdam/Zuid-Holland/30## @@;"
                   "Den Haag/Zuid-Holland/25## @@;Utrecht/Utrecht/35## @@;"
                   "Eindhoven/Noord-Brabant/56## @@"),
    "BE": _country(1.5, "nl fr", "+32 4## ## ## ##", "nl", ["{s} {n}"], "BV|SRL", VAT_ID, None,
                   2100,
                   "Bruxelles/Bruxelles-Capitale/10##;Antwerpen/Antwerpen/20##;"
                   "Gent/Oost-Vlaanderen/90##;Liège/Liège/40##;Leuven/Vlaams-Brabant/30##"),
    "AT": _country(1.5, "de", "+43 664 #######", "de", ["{s} {n}"], "GmbH", "FN ######", None,
                   2000,
                   "Wien/Wien/1###;Graz/Steiermark/80##;Linz/Oberösterreich/40##;"
                   "Salzburg/Salzburg/50##;Innsbruck/Tirol/60##"),
    "IE": _country(1, "en", "+353 8# ### ####", "en", ["{n} {s}"], "Ltd|DAC", "######", None, 2300,
                   "Dublin/Co. Dublin/D0# @#@#;Cork/Co. Cork/T12 @#@#;"
                   "Galway/Co. Galway/H91 @#@#;Limerick/Co. Limerick/V94 @#@#"),
    "PT": _country(1.5, "pt", "+351 9## ### ###", "pt", ["{s}, {n}"], "Lda.|S.A.", VAT_ID, None,
                   2300,
                   "Lisboa/Lisboa/1###-###;Porto/Porto/4###-###;Braga/Braga/47##-###;"
                   "Coimbra/Coimbra/30##-###;Faro/Faro/80##-###"),
    "PL": _country(2.5, "pl", "+48 5## ### ###", "pl", ["{s} {n}", "{s} {n}/{b}"],
                   "sp. z o.o.|S.A.", "KRS ##########", None, 2300,
                   "Warszawa/mazowieckie/0#-###;Kraków/małopolskie/3#-###;"
                   "Wrocław/dolnośląskie/5#-###;Gdańsk/pomorskie/80-###;Łódź/łódzkie/9#-###;"
                   "Poznań/wielkopolskie/6#-###"),
    "SE": _country(1.5, "nordic", "+46 70 ### ## ##", "nordic", ["{s} {n}"], "AB", slice(2, 12),
                   None, 2500,
                   "Stockholm/Stockholms län/1## ##;Göteborg/Västra Götalands län/4## ##;"
                   "Malmö/Skåne län/2## ##;Uppsala/Uppsala län/75# ##;"
                   "Västerås/Västmanlands län/72# ##"),
    "DK": _country(1, "nordic", "+45 ## ## ## ##", "nordic", ["{s} {n}"], "ApS|A/S", VAT_ID, None,
                   2500,
                   "København/Hovedstaden/1###;Aarhus/Midtjylland/8000;Odense/Syddanmark/5000;"
                   "Aalborg/Nordjylland/9000"),
    "FI": _country(1, "nordic", "+358 40 ### ####", "nordic", ["{s} {n}"], "Oy|Oyj", VAT_ID, None,
                   2550,
                   "Helsinki/Uusimaa/00###;Espoo/Uusimaa/02###;Tampere/Pirkanmaa/33###;"
                   "Turku/Varsinais-Suomi/20###;Jyväskylä/Keski-Suomi/40###;"
                   "Oulu/Pohjois-Pohjanmaa/90###"),
    "CH": _country(1.5, "de fr it", "+41 7# ### ## ##", "de", ["{s} {n}"], "AG|GmbH|SA",
                   "CHE-###.###.###", "CHE-###.###.### MWST", 810,
                   "Zürich/ZH/80##;Genève/GE/12##;Basel/BS/40##;Bern/BE/30##;Lausanne/VD/10##"),
    "BR": _country(3, "pt", "+55 11 9####-####", "pt", ["{s}, {n}"], "Ltda.|S.A.",
                   "##.###.###/0001-##", None, 0,
                   "São Paulo/SP/0####-###;Rio de Janeiro/RJ/2####-###;"
                   "Belo Horizonte/MG/3####-###;Curitiba/PR/8####-###;Florianópolis/SC/88###-###"),
    "MX": _country(2, "es", "+52 55 #### ####", "es", ["{s} {n}"], "S.A. de C.V.", "@@@######@@#",
                   None, 1600,
                   "Ciudad de México/CDMX/0####;Guadalajara/Jalisco/44###;"
                   "Monterrey/Nuevo León/64###;Puebla/Puebla/72###;Mérida/Yucatán/97###"),
    "IN": _country(4, "in", "+91 9#### #####", "in", ["{n} {s}"], "Pvt Ltd",
                   "U#####@@####PTC######", "##@@@@@####@#Z#", 1800,
                   "Bengaluru/Karnataka/560###;Mumbai/Maharashtra/400###;New Delhi/Delhi/110###;"
                   "Chennai/Tamil Nadu/600###;Hyderabad/Telangana/500###"),
    "JP": _country(2, "jp", "+81 90-####-####", "jp", ["{a}-{b}-{n} {s}"], "K.K.|G.K.",
                   "#############", "T#############", 1000,
                   "Tokyo/Tokyo/1##-####;Osaka/Osaka/5##-####;Yokohama/Kanagawa/22#-####;"
                   "Kyoto/Kyoto/60#-####;Fukuoka/Fukuoka/81#-####"),
}


# EU VAT numbers with valid check digits (each returns the full number with its prefix).
def _digits(rng, count):
    return str(rng.randrange(10 ** (count - 1), 10 ** count))


def _mod11(rng, count, weights, negate):
    while True:
        body = _digits(rng, count)
        total = sum(weight * int(digit) for weight, digit in zip(weights, body)) % 11
        check = (-total) % 11 if negate else total
        if check < 10:
            return body + str(check)


def _french(rng):
    first8 = _digits(rng, 8)
    siren = first8 + luhn.calc_check_digit(first8)
    return f"FR{int(siren + '12') % 97:02d}{siren}"


def _belgian(rng):
    body = "0" + _digits(rng, 7)
    return f"BE{body}{97 - int(body) % 97:02d}"


def _spanish(rng):
    body = f"B{rng.randrange(10 ** 7):07d}"
    return "ES" + body + es_cif.calc_check_digits(body)[0]


def _italian(rng):
    body = f"{rng.randrange(1, 10 ** 7):07d}{rng.randint(1, 100):03d}"
    return "IT" + body + luhn.calc_check_digit(body)


def _prefixed(country, make_body, check_digit, suffix=""):
    """A VAT generator: country prefix, a random body, its check digit, a fixed suffix."""
    def generate(rng):
        body = make_body(rng)
        return country + body + check_digit(body) + suffix
    return generate


VAT = {
    "DE": _prefixed("DE", lambda rng: _digits(rng, 8), mod_11_10.calc_check_digit),
    "FR": _french,
    "ES": _spanish,
    "IT": _italian,
    "NL": lambda rng: "NL" + _mod11(rng, 8, (9, 8, 7, 6, 5, 4, 3, 2), False) + "B01",
    "BE": _belgian,
    "AT": _prefixed("AT", lambda rng: "U" + _digits(rng, 7), at_uid.calc_check_digit),
    "IE": _prefixed("IE", lambda rng: _digits(rng, 7), ie_vat.calc_check_digit),
    "PT": _prefixed("PT", lambda rng: "5" + _digits(rng, 7), pt_nif.calc_check_digit),
    "PL": lambda rng: "PL" + _mod11(rng, 9, (6, 5, 7, 2, 3, 4, 5, 6, 7), False),
    "SE": _prefixed("SE", lambda rng: "556" + _digits(rng, 6), luhn.calc_check_digit, "01"),
    "DK": lambda rng: "DK" + _mod11(rng, 7, (2, 7, 6, 5, 4, 3, 2), True),
    "FI": lambda rng: "FI" + _mod11(rng, 7, (7, 9, 10, 5, 8, 4, 2), True),
}

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PATTERNS = {}


def fill(rng, pattern):
    """'SW## #@@' -> 'SW41 7QX': runs of '#' become digits, runs of '@' upper-case letters."""
    parts = _PATTERNS.get(pattern)
    if parts is None:
        parts = _PATTERNS[pattern] = [(run[0] if run[0] in "#@" else None, len(run), run)
                                      for run in re.findall(r"#+|@+|[^#@]+", pattern)]
    out = []
    for kind, length, text in parts:
        if kind == "#":
            out.append(f"{rng.randrange(10 ** length):0{length}d}")
        elif kind == "@":
            out.append("".join(rng.choices(UPPER, k=length)))
        else:
            out.append(text)
    return "".join(out)


COUNTRY_CODES = list(COUNTRIES)
COUNTRY_CUM_WEIGHTS = [sum(COUNTRIES[code]["weight"] for code in COUNTRY_CODES[:i + 1])
                       for i in range(len(COUNTRY_CODES))]
