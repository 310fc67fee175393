"""Word lists and small generators behind admin_app.seed (names, places, companies, VAT)."""
import re
import unicodedata
from calendar import monthrange
from datetime import timedelta
from math import gcd

from stdnum import luhn
from stdnum.at import uid as at_uid
from stdnum.es import cif as es_cif
from stdnum.ie import vat as ie_vat
from stdnum.iso7064 import mod_11_10
from stdnum.pt import nif as pt_nif

_W = str.split  # keeps the lists below compact: entries with spaces use "_" instead

FIRST = {
    "en": _W("James Mary Olivia Liam Noah Emma Ava Sophia Ethan Mia Lucas Harper Amelia Jack "
             "Grace Ryan Chloe Zoë Renée Mary-Kate Siobhán Seán Aoife Niamh Connor Madison "
             "Tyler Hannah Isaac Ella"),
    "es": _W("María José Lucía Javier Sofía Alejandro Carmen Pablo Elena Álvaro Marta Sergio "
             "Ana Iñigo Begoña Andrés Mónica Raúl Nuria Jesús Guadalupe Ximena Mateo Valentina "
             "Santiago María_José Juan_Pablo"),
    "pt": _W("João Maria Ana Pedro Inês Tiago Beatriz Gonçalo Leonor Rodrigo Mariana Diogo "
             "Conceição Luís Joaquim Lúcia Gabriel Larissa Thiago Fernanda Vinícius Letícia "
             "Caio Júlia"),
    "fr": _W("Jean Marie Camille Léa Chloé Hélène François Benoît Céline Élodie Théo Noémie "
             "Jérôme Inès Clément Gaëlle Anaïs Loïc Mathéo Zoé Jean-Luc Anne-Sophie "
             "Marie-Claire Pierre-Yves Agnès Sébastien Maël"),
    "de": _W("Lukas Leon Jürgen Jörg Günther Björn Sören Anna Lena Lea Sophie Marie Hannah "
             "Katharina Sabine Ursula Max Felix Paul Jonas Maximilian Tobias Stefan Hans-Peter "
             "Karl-Heinz Anne-Kathrin Änne Özlem Mehmet"),
    "it": _W("Giuseppe Giovanni Antonio Mario Luca Marco Francesco Alessandro Matteo Lorenzo "
             "Giulia Francesca Chiara Sara Martina Alessia Federica Elisa Niccolò Ilaria "
             "Gianluca Pierpaolo Maria_Grazia"),
    "nl": _W("Daan Sem Lucas Milan Levi Emma Julia Mila Tess Sophie Zoë Anouk Bram Thijs Joris "
             "Maarten Femke Sanne Lotte Ruud Geert Anneke Noortje Jan-Willem"),
    "pl": _W("Łukasz Małgorzata Paweł Agnieszka Piotr Katarzyna Krzysztof Anna Tomasz "
             "Magdalena Michał Joanna Marcin Zofia Wojciech Grzegorz Jędrzej Aleksandra "
             "Bartłomiej Żaneta"),
    "nordic": _W("Søren Mads Freja Ida Astrid Åsa Björn Erik Lars Ingrid Nils Maja Elsa Oskar "
                 "Anders Mette Kirsten Jens Mikko Aino Väinö Eetu Päivi Jukka Sanna Linnéa"),
    "in": _W("Aarav Vivaan Aditya Arjun Priya Ananya Diya Ishaan Rohan Sneha Kavya Rahul Pooja "
             "Sai Lakshmi Vikram Neha Aisha Karthik Meera"),
    "jp": _W("Haruto Yuto Sota Yui Hina Sakura Ren Takumi Aoi Yuki Kenji Akiko Hiroshi Naoko "
             "Daiki Emi Shōta Yūko Kōji Ryō"),
}
LAST = {
    "en": _W("Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor Anderson Thomas "
             "Moore Martin Clark Walker Young King Wright Hill Scott Green Baker Adams Nelson "
             "O'Brien O'Connor O'Neill McDonald Fitzgerald Smith-Jones Hughes-Whitaker Murphy "
             "Kelly Byrne"),
    "es": _W("García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín "
             "Jiménez Ruiz Hernández Díaz Moreno Álvarez Muñoz Romero Navarro Torres Domínguez "
             "García-López Sánchez-Vidal Ortiz Castillo Núñez Peña Ibáñez"),
    "pt": _W("Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Sousa Fernandes "
             "Gonçalves Gomes Lopes Marques Alves Almeida Ribeiro Pinto Carvalho Araújo "
             "Magalhães Brandão Sá Conceição"),
    "fr": _W("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
             "Laurent Lefèvre Michel Fontaine Rousseau Girard Bonnet Dupont Lambert Faure "
             "Mercier Chevalier D'Arcy L'Heureux Saint-Martin Lefebvre-Roux Brûlé Périer Hébert"),
    "de": _W("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
             "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun "
             "Krüger Hartmann Lange Werner Krause Köhler Groß Weiß Yılmaz Müller-Lüdenscheidt "
             "Schulze-Wendt von_Bülow"),
    "it": _W("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno "
             "Gallo Conti De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti D'Angelo "
             "D'Amico Dell'Acqua Fabbri Barbieri Fontana Santoro Marchetti"),
    "nl": _W("de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer "
             "de_Boer Mulder de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer "
             "de_Wit Dijkstra van_der_Meer Van_Damme Peeters Maes Claes Wouters Goossens"),
    "pl": _W("Nowak Kowalski Kowalska Wiśniewski Wiśniewska Wójcik Kowalczyk Kamiński "
             "Lewandowski Lewandowska Zieliński Szymański Woźniak Dąbrowski Kozłowski Jankowski "
             "Mazur Kwiatkowski Krawczyk Kaczmarek Nowak-Jeziorańska Żak Łuczak"),
    "nordic": _W("Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson "
                 "Svensson Lindqvist Jensen Nielsen Hansen Pedersen Andersen Christensen "
                 "Sørensen Møller Jørgensen Korhonen Virtanen Mäkinen Nieminen Hämäläinen "
                 "Järvinen Lehtonen Åberg Öberg Ström"),
    "in": _W("Sharma Verma Gupta Patel Singh Kumar Reddy Iyer Nair Menon Rao Chatterjee "
             "Banerjee Mukherjee Das Joshi Mehta Shah Desai Pillai"),
    "jp": _W("Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato "
             "Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Saitō"),
}
STREETS = {
    "en": _W("Main_Street Oak_Avenue Maple_Ave Cedar_Lane Elm_Street Washington_Blvd Park_Road "
             "High_Street Church_Lane Station_Road Victoria_Road Mill_Lane Sunset_Drive "
             "King's_Road Queen's_Parade"),
    "de": _W("Hauptstraße Bahnhofstraße Schillerstraße Goethestraße Lindenweg Gartenstraße "
             "Kirchgasse Königsallee Am_Mühlbach"),
    "fr": _W("rue_de_la_République avenue_Victor-Hugo rue_du_Général-Leclerc "
             "boulevard_Saint-Michel rue_des_Écoles place_de_l'Église rue_Émile-Zola"),
    "es": _W("Calle_Mayor Gran_Vía Calle_de_Alcalá Avenida_de_la_Constitución Calle_Real "
             "Paseo_de_la_Castellana Calle_del_Sol Avenida_Insurgentes_Sur"),
    "it": _W("Via_Roma Via_Garibaldi Corso_Vittorio_Emanuele_II Via_Dante Piazza_del_Popolo "
             "Via_dell'Indipendenza Via_Cavour"),
    "nl": _W("Kerkstraat Dorpsstraat Schoolstraat Molenweg Stationsstraat Prinsengracht "
             "Keizersgracht Rue_de_la_Loi"),
    "pt": _W("Rua_Augusta Avenida_da_Liberdade Rua_das_Flores Rua_de_Santa_Catarina "
             "Avenida_Paulista Rua_Oscar_Freire Rua_São_João"),
    "pl": _W("ul._Długa ul._Marszałkowska ul._Piotrkowska ul._Świętojańska ul._Floriańska "
             "al._Jerozolimskie"),
    "nordic": _W("Storgatan Drottninggatan Kungsgatan Vesterbrogade Nørregade "
                 "Mannerheimintie Hämeenkatu Aleksanterinkatu"),
    "in": _W("MG_Road Brigade_Road Linking_Road Anna_Salai Park_Street Nehru_Place"),
    "jp": _W("Shibuya Shinjuku Minato Chūō Umeda Nakagyō"),
}
for _d in (FIRST, LAST, STREETS):
    for _k, _v in _d.items():
        _d[_k] = [s.replace("_", " ") for s in _v]

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "ß": "ss",
                       "đ": "d", "ı": "i", "œ": "oe", "ð": "d", "þ": "th"})


def ascii_slug(text):
    """'Dell'Acqua' -> 'dellacqua', 'García-López' -> 'garcia-lopez' (for e-mail addresses)."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9-]", "", text.decode().lower())


# (name, slug) pairs, so that the e-mail address does not have to be folded per customer.
FIRST = {g: [(n, ascii_slug(n)) for n in v] for g, v in FIRST.items()}
LAST = {g: [(n, ascii_slug(n)) for n in v] for g, v in LAST.items()}

EMAIL_DOMAINS = ["example.com"] * 4 + ["example.org", "example.net", "mail.example.com",
                                       "inbox.example.org", "post.example.net"]
EU = {"DE", "FR", "ES", "IT", "NL", "BE", "AT", "IE", "PT", "PL", "SE", "DK", "FI"}
US_SALES_TAX_BP = {"TX": 825, "WA": 1025, "NY": 888, "PA": 600, "OH": 575, "TN": 925}
_EN_ADDR = ["{n} {s}", "{n} {s}", "{n} {s}, Apt {b}"]


def _c(weight, names, phone, streets, addr, suffixes, company_id, tax_id, tax_bp, cities):
    return {"weight": weight, "names": names.split(), "phone": phone, "streets": streets,
            "addr": addr, "suffixes": suffixes.split("|"), "company_id": company_id,
            "tax_id": tax_id, "tax_bp": tax_bp,
            "cities": [tuple(x or None for x in c.split("/")) for c in cities.split(";")]}


VAT_ID = slice(2, None)  # company_id is the national part of the VAT number (or a slice of it)
# Postal codes and phone numbers are patterns: '#' is a digit, '@' an upper-case letter.
# Phone numbers use the ranges reserved for fiction where a country has one.
COUNTRIES = {
    "US": _c(30, "en", "+1 2##-555-01##", "en", _EN_ADDR, "LLC|Inc.", "#######", "##-#######",
             0, "New York/NY/100##;Brooklyn/NY/112##;Los Angeles/CA/900##;San Francisco/CA/941##;"
             "Austin/TX/787##;Houston/TX/770##;Chicago/IL/606##;Seattle/WA/981##;"
             "Portland/OR/972##;Denver/CO/802##;Boston/MA/021##;Miami/FL/331##;"
             "Philadelphia/PA/191##;Columbus/OH/432##;Nashville/TN/372##;Phoenix/AZ/850##"),
    "GB": _c(8, "en", "+44 7700 900###", "en", ["{n} {s}"], "Ltd", "########", "##########",
             2000, "London/England/SW## #@@;London/England/E# #@@;Manchester/England/M## #@@;"
             "Leeds/England/LS# #@@;Bristol/England/BS# #@@;Edinburgh/Scotland/EH# #@@;"
             "Cardiff/Wales/CF## #@@;Belfast/Northern Ireland/BT# #@@"),
    "CA": _c(5, "en fr", "+1 4##-555-01##", "en", _EN_ADDR, "Inc.|Ltd.", "BC#######",
             "#########RT0001", 500, "Toronto/ON/M#@ #@#;Montréal/QC/H#@ #@#;"
             "Vancouver/BC/V#@ #@#;Calgary/AB/T#@ #@#;Québec/QC/G#@ #@#"),
    "AU": _c(3, "en", "+61 491 570 ###", "en", ["{n} {s}"], "Pty Ltd", "### ### ###",
             "## ### ### ###", 1000, "Sydney/NSW/20##;Melbourne/VIC/30##;Brisbane/QLD/40##;"
             "Perth/WA/60##;Hobart/TAS/70##"),
    "DE": _c(9, "de", "+49 15# ########", "de", ["{s} {n}"], "GmbH|UG (haftungsbeschränkt)",
             "HRB ######", None, 1900, "Berlin/Berlin/10###;München/Bayern/80###;"
             "Hamburg/Hamburg/20###;Köln/Nordrhein-Westfalen/50###;Frankfurt am Main/Hessen/60###;"
             "Stuttgart/Baden-Württemberg/70###;Leipzig/Sachsen/04###;Nürnberg/Bayern/90###;"
             "Lübeck/Schleswig-Holstein/23###"),
    "FR": _c(7, "fr", "+33 6 ## ## ## ##", "fr", ["{n} {s}"], "SARL|SAS", slice(4, None),
             None, 2000,
             "Paris/Île-de-France/750##;Lyon/Auvergne-Rhône-Alpes/6900#;"
             "Marseille/Provence-Alpes-Côte d'Azur/130##;Toulouse/Occitanie/310##;"
             "Nantes/Pays de la Loire/440##;Strasbourg/Grand Est/670##;"
             "Lille/Hauts-de-France/590##"),
    "ES": _c(5, "es", "+34 6## ### ###", "es", ["{s}, {n}"], "S.L.|S.A.", VAT_ID,
             None, 2100,
             "Madrid/Madrid/280##;Barcelona/Cataluña/080##;Valencia/Comunidad Valenciana/460##;"
             "Sevilla/Andalucía/410##;Málaga/Andalucía/290##;Bilbao/País Vasco/480##;"
             "A Coruña/Galicia/150##"),
    "IT": _c(4, "it", "+39 3## ### ####", "it", ["{s} {n}"], "S.r.l.|S.p.A.", VAT_ID,
             None, 2200,
             "Roma/RM/001##;Milano/MI/201##;Napoli/NA/801##;Torino/TO/101##;Bologna/BO/401##;"
             "Firenze/FI/501##;Forlì/FC/4712#;Cantù/CO/2206#"),
    "NL": _c(3, "nl", "+31 6 ########", "nl", ["{s} {n}"], "B.V.", "########", None, 2100,
             "Amsterdam/Noord-Holland/10## @@;Rotterdam/Zuid-Holland/30## @@;"
             "Den Haag/Zuid-Holland/25## @@;Utrecht/Utrecht/35## @@;"
             "Eindhoven/Noord-Brabant/56## @@"),
    "BE": _c(1.5, "nl fr", "+32 4## ## ## ##", "nl", ["{s} {n}"], "BV|SRL", VAT_ID, None, 2100,
             "Bruxelles/Bruxelles-Capitale/10##;Antwerpen/Antwerpen/20##;Gent/Oost-Vlaanderen/90##;"
             "Liège/Liège/40##;Leuven/Vlaams-Brabant/30##"),
    "AT": _c(1.5, "de", "+43 664 #######", "de", ["{s} {n}"], "GmbH", "FN ######", None, 2000,
             "Wien/Wien/1###;Graz/Steiermark/80##;Linz/Oberösterreich/40##;Salzburg/Salzburg/50##;"
             "Innsbruck/Tirol/60##"),
    "IE": _c(1, "en", "+353 8# ### ####", "en", ["{n} {s}"], "Ltd|DAC", "######", None, 2300,
             "Dublin/Co. Dublin/D0# @#@#;Cork/Co. Cork/T12 @#@#;Galway/Co. Galway/H91 @#@#;"
             "Limerick/Co. Limerick/V94 @#@#"),
    "PT": _c(1.5, "pt", "+351 9## ### ###", "pt", ["{s}, {n}"], "Lda.|S.A.", VAT_ID, None, 2300,
             "Lisboa/Lisboa/1###-###;Porto/Porto/4###-###;Braga/Braga/47##-###;"
             "Coimbra/Coimbra/30##-###;Faro/Faro/80##-###"),
    "PL": _c(2.5, "pl", "+48 5## ### ###", "pl", ["{s} {n}", "{s} {n}/{b}"], "sp. z o.o.|S.A.",
             "KRS ##########", None, 2300, "Warszawa/mazowieckie/0#-###;Kraków/małopolskie/3#-###;"
             "Wrocław/dolnośląskie/5#-###;Gdańsk/pomorskie/80-###;Łódź/łódzkie/9#-###;"
             "Poznań/wielkopolskie/6#-###"),
    "SE": _c(1.5, "nordic", "+46 70 ### ## ##", "nordic", ["{s} {n}"], "AB", slice(2, 12),
             None, 2500,
             "Stockholm/Stockholms län/1## ##;Göteborg/Västra Götalands län/4## ##;"
             "Malmö/Skåne län/2## ##;Uppsala/Uppsala län/75# ##;Västerås/Västmanlands län/72# ##"),
    "DK": _c(1, "nordic", "+45 ## ## ## ##", "nordic", ["{s} {n}"], "ApS|A/S", VAT_ID, None, 2500,
             "København/Hovedstaden/1###;Aarhus/Midtjylland/8000;Odense/Syddanmark/5000;"
             "Aalborg/Nordjylland/9000"),
    "FI": _c(1, "nordic", "+358 40 ### ####", "nordic", ["{s} {n}"], "Oy|Oyj", VAT_ID,
             None, 2550,
             "Helsinki/Uusimaa/00###;Espoo/Uusimaa/02###;Tampere/Pirkanmaa/33###;"
             "Turku/Varsinais-Suomi/20###;Jyväskylä/Keski-Suomi/40###;"
             "Oulu/Pohjois-Pohjanmaa/90###"),
    "CH": _c(1.5, "de fr it", "+41 7# ### ## ##", "de", ["{s} {n}"], "AG|GmbH|SA",
             "CHE-###.###.###", "CHE-###.###.### MWST", 810, "Zürich/ZH/80##;Genève/GE/12##;"
             "Basel/BS/40##;Bern/BE/30##;Lausanne/VD/10##"),
    "BR": _c(3, "pt", "+55 11 9####-####", "pt", ["{s}, {n}"], "Ltda.|S.A.",
             "##.###.###/0001-##", None, 0, "São Paulo/SP/0####-###;Rio de Janeiro/RJ/2####-###;"
             "Belo Horizonte/MG/3####-###;Curitiba/PR/8####-###;Florianópolis/SC/88###-###"),
    "MX": _c(2, "es", "+52 55 #### ####", "es", ["{s} {n}"], "S.A. de C.V.", "@@@######@@#",
             None, 1600, "Ciudad de México/CDMX/0####;Guadalajara/Jalisco/44###;"
             "Monterrey/Nuevo León/64###;Puebla/Puebla/72###;Mérida/Yucatán/97###"),
    "IN": _c(4, "in", "+91 9#### #####", "in", ["{n} {s}"], "Pvt Ltd", "U#####@@####PTC######",
             "##@@@@@####@#Z#", 1800, "Bengaluru/Karnataka/560###;Mumbai/Maharashtra/400###;"
             "New Delhi/Delhi/110###;Chennai/Tamil Nadu/600###;Hyderabad/Telangana/500###"),
    "JP": _c(2, "jp", "+81 90-####-####", "jp", ["{a}-{b}-{n} {s}"], "K.K.|G.K.",
             "#############", "T#############", 1000, "Tokyo/Tokyo/1##-####;Osaka/Osaka/5##-####;"
             "Yokohama/Kanagawa/22#-####;Kyoto/Kyoto/60#-####;Fukuoka/Fukuoka/81#-####"),
}

COMPANY_WORDS = _W("Northwind Blue_Harbor Summit Brightpath Evergreen Lumen Atlas Nordlicht "
                   "Kestrel Pinecone Silverline Redwood Cobalt Helix Meridian Sunrise Tandem "
                   "Waypoint Alpenglow Solera Vértice Étoile Fjord")
COMPANY_WORDS = [w.replace("_", " ") for w in COMPANY_WORDS]
COMPANY_KINDS = _W("Labs Consulting Studio Media Digital Analytics Partners Software Learning "
                   "Design Solutions Ventures")
COMPANY_MAILBOXES = _W("billing accounts finance invoices ap")

# name, price in major units, interval, interval_count, active
PLANS = [("Starter Monthly", 19, "month", 1, True), ("Pro Monthly", 49, "month", 1, True),
         ("Pro Quarterly", 129, "month", 3, True), ("Academy Yearly", 399, "year", 1, True),
         ("Team Yearly", 999, "year", 1, True), ("Legacy Basic Monthly", 9, "month", 1, False)]
PLAN_WEIGHTS = [30, 35, 10, 15, 5, 5]
# One-time purchases: description and price in major units.
PRODUCTS = [("Course: Python for Data Analysis", 129), ("Course: Practical SQL", 89),
            ("Course: UX Writing Essentials", 149), ("Workshop: Pricing Your Freelance Work", 49),
            ("Workshop: Public Speaking Live", 79), ("Ebook: The Remote Team Handbook", 19),
            ("Template pack: Notion Business OS", 29), ("Mentoring session (60 min)", 99),
            ("Certification exam", 149), ("Bootcamp deposit", 499), ("Gift card", 50),
            ("Conference ticket — early bird", 249)]
COUPONS = [("WELCOME10", 10), ("SPRING20", 20), ("STUDENT25", 25), ("BLACKFRIDAY50", 50)]
AFFILIATES = [("Maria Schmidt", 1000), ("CodeCraft Blog", 1500), ("The Indie Hacker Podcast", 2000),
              ("Learn with Léa", 1250), ("Ahmed Khan", 500), ("DevTips Weekly", 1000),
              ("Nordic Founders Club", 750), ("Sofía Navarro", 2500), ("Bootcamp Reviews", 3000),
              ("O'Malley Media", 1500), ("Kenji Watanabe", 1000), ("Growth Garage", 2000),
              ("Studio Bálint", 1250), ("Priya Raman", 3500)]
REFUND_REASONS = ["requested_by_customer"] * 14 + ["duplicate"] * 2 + ["fraudulent"] + ["other"] * 3
REFUND_NOTES = {  # an optional note per reason
    "requested_by_customer": [None] * 4 + ["Asked within the 14-day window",
                                           "Course was cancelled", "Bought the wrong plan"],
    "duplicate": [None, "Charged twice by mistake"],
    "fraudulent": [None, "Card reported stolen by the card holder"],
    "other": [None, "Goodwill gesture after the outage", "Price adjustment"],
}
REFUND_FAILURES = {"stripe": "Insufficient balance in the account to cover the refund.",
                   "paypal": "TRANSACTION_REFUSED: the refund was refused by PayPal."}


# --- EU VAT numbers with valid check digits (each returns the full number with prefix) ---
def _digits(r, n):
    return str(r.randrange(10 ** (n - 1), 10 ** n))


def _mod11(r, n, weights, negate):
    while True:
        body = _digits(r, n)
        s = sum(w * int(d) for w, d in zip(weights, body)) % 11
        check = (-s) % 11 if negate else s
        if check < 10:
            return body + str(check)


def _fr(r):
    s8 = _digits(r, 8)
    siren = s8 + luhn.calc_check_digit(s8)
    return f"FR{int(siren + '12') % 97:02d}{siren}"


def _be(r):
    body = "0" + _digits(r, 7)
    return f"BE{body}{97 - int(body) % 97:02d}"


VAT = {
    "DE": lambda r: "DE" + (b := _digits(r, 8)) + mod_11_10.calc_check_digit(b),
    "FR": _fr,
    "ES": lambda r: "ES" + (b := f"B{r.randrange(10 ** 7):07d}") + es_cif.calc_check_digits(b)[0],
    "IT": lambda r: "IT" + (b := f"{r.randrange(1, 10 ** 7):07d}{r.randint(1, 100):03d}")
                    + luhn.calc_check_digit(b),
    "NL": lambda r: "NL" + _mod11(r, 8, (9, 8, 7, 6, 5, 4, 3, 2), False) + "B01",
    "BE": _be,
    "AT": lambda r: "AT" + (b := "U" + _digits(r, 7)) + at_uid.calc_check_digit(b),
    "IE": lambda r: "IE" + (b := _digits(r, 7)) + ie_vat.calc_check_digit(b),
    "PT": lambda r: "PT" + (b := "5" + _digits(r, 7)) + pt_nif.calc_check_digit(b),
    "PL": lambda r: "PL" + _mod11(r, 9, (6, 5, 7, 2, 3, 4, 5, 6, 7), False),
    "SE": lambda r: "SE" + (b := "556" + _digits(r, 6)) + luhn.calc_check_digit(b) + "01",
    "DK": lambda r: "DK" + _mod11(r, 7, (2, 7, 6, 5, 4, 3, 2), True),
    "FI": lambda r: "FI" + _mod11(r, 7, (7, 9, 10, 5, 8, 4, 2), True),
}

_UP = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PATTERNS = {}


def fill(r, pattern):
    """'SW## #@@' -> 'SW41 7QX': runs of '#' become digits, runs of '@' upper-case letters."""
    parts = _PATTERNS.get(pattern)
    if parts is None:
        parts = _PATTERNS[pattern] = [(p[0] if p[0] in "#@" else None, len(p), p)
                                      for p in re.findall(r"#+|@+|[^#@]+", pattern)]
    out = []
    for kind, n, text in parts:
        if kind == "#":
            out.append(f"{r.randrange(10 ** n):0{n}d}")
        elif kind == "@":
            out.append("".join(r.choices(_UP, k=n)))
        else:
            out.append(text)
    return "".join(out)


# --- gateway ids and billing periods ---
A62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
A36 = A62[:36]
_GOLDEN = (0.6180339887, 0.4142135623, 0.7320508075, 0.2360679774, 0.5772156649, 0.3819660112)
_CODERS = {}


def encode_id(n, width, alphabet, salt):
    """A random-looking code of `width` characters that is unique per id n (a bijection on
    0..len(alphabet)**width); `salt` gives each kind of id its own look."""
    coder = _CODERS.get((width, alphabet, salt))
    if coder is None:
        mod = len(alphabet) ** width
        mult = int(mod * _GOLDEN[salt])
        while gcd(mult, mod) != 1:
            mult += 1
        pairs = [a + b for a in alphabet for b in alphabet]
        coder = _CODERS[(width, alphabet, salt)] = (mod, mult, pairs, len(pairs))
    mod, mult, pairs, base2 = coder
    n = n * mult % mod
    for _ in range(2):  # rotate the top pair of digits to the bottom and mix again
        n = (n % (mod // base2) * base2 + n // (mod // base2)) * mult % mod
    out = []
    for _ in range(width // 2):
        n, d = divmod(n, base2)
        out.append(pairs[d])
    if width % 2:
        out.append(alphabet[n])
    return "".join(out)


def billing_cap(d):
    """Billing anchors on day 1-28, so that moving by whole months is exact both ways."""
    return d.replace(day=28) if d.day > 28 else d


def shift(d, months, days, k):
    """d moved by k periods of `months` months (clamped to the month's end) or `days` days."""
    if months:
        m = d.month - 1 + months * k
        y, m = d.year + m // 12, m % 12 + 1
        return d.replace(year=y, month=m, day=min(d.day, monthrange(y, m)[1]))
    return d + timedelta(days=days * k)


COUNTRY_CODES = list(COUNTRIES)
COUNTRY_CUM = [sum(COUNTRIES[c]["weight"] for c in COUNTRY_CODES[:i + 1])
               for i in range(len(COUNTRY_CODES))]


def customer_details(r, cid):
    """The customer's columns from name to vat_number (in the model's order), plus tax_bp:
    the rate included in B2C prices. `cid` goes into the e-mail address to keep it unique."""
    cc = r.choices(COUNTRY_CODES, cum_weights=COUNTRY_CUM)[0]
    C = COUNTRIES[cc]
    group = r.choice(C["names"] if r.random() < 0.88 else list(FIRST))
    (first, fs), (last, ls) = r.choice(FIRST[group]), r.choice(LAST[group])
    if group == "en" and r.random() < 0.08:
        first += f" {r.choice(_UP)}."
    style = r.random()
    local = (f"{fs}.{ls}.{cid}" if style < 0.55 else f"{fs}{ls}{cid}" if style < 0.7
             else f"{fs[0]}.{ls}.{cid}" if style < 0.85 else f"{fs}_{ls}_{cid}")
    city, state, postal = r.choice(C["cities"])
    company = company_id = company_email = tax_id = vat = None
    if r.random() < 0.4:
        base = last if r.random() < 0.4 else r.choice(COMPANY_WORDS)
        kind = r.choice(COMPANY_KINDS)
        company = f"{base} {kind} {r.choice(C['suffixes'])}"
        company_email = (f"{r.choice(COMPANY_MAILBOXES)}@{ascii_slug(base)}{kind.lower()}"
                         ".example.com")
        vat = VAT[cc](r) if cc in EU else None
        pattern = C["company_id"]
        company_id = vat[pattern] if isinstance(pattern, slice) else fill(r, pattern)
        tax_id = fill(r, C["tax_id"]) if C["tax_id"] else None
    address = r.choice(C["addr"]).format(n=r.randint(1, 240), a=r.randint(1, 9),
                                         b=r.randint(1, 40), s=r.choice(STREETS[C["streets"]]))
    return {"name": f"{first} {last}", "email": f"{local}@{r.choice(EMAIL_DOMAINS)}",
            "company": company, "company_id": company_id, "company_email": company_email,
            "tax_id": tax_id, "phone": fill(r, C["phone"]), "address": address, "city": city,
            "state": state, "postal_code": fill(r, postal), "country": cc, "vat_number": vat,
            "tax_bp": 0 if company else (US_SALES_TAX_BP.get(state, 0) if cc == "US"
                                         else C["tax_bp"])}


#: what one unit of each currency is worth in US dollars (for plausible settlement amounts)
USD_VALUE = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CHF": 1.13, "CAD": 0.73, "AUD": 0.66,
             "JPY": 0.0067, "SEK": 0.095, "DKK": 0.145, "PLN": 0.25}
