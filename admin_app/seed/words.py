"""Word lists of the demo data: first and last names, streets, companies, e-mail domains."""
import re
import unicodedata


def _words(text):
    """'Main_Street Oak_Avenue' -> ['Main Street', 'Oak Avenue'] (keeps the lists compact)."""
    return [word.replace("_", " ") for word in text.split()]


FIRST = {
    "en": _words("James Mary Olivia Liam Noah Emma Ava Sophia Ethan Mia Lucas Harper Amelia Jack "
                 "Grace Ryan Chloe Zoë Renée Mary-Kate Siobhán Seán Aoife Niamh Connor Madison "
                 "Tyler Hannah Isaac Ella"),
    "es": _words("María José Lucía Javier Sofía Alejandro Carmen Pablo Elena Álvaro Marta Sergio "
                 "Ana Iñigo Begoña Andrés Mónica Raúl Nuria Jesús Guadalupe Ximena Mateo Valentina "
                 "Santiago María_José Juan_Pablo"),
    "pt": _words("João Maria Ana Pedro Inês Tiago Beatriz Gonçalo Leonor Rodrigo Mariana Diogo "
                 "Conceição Luís Joaquim Lúcia Gabriel Larissa Thiago Fernanda Vinícius Letícia "
                 "Caio Júlia"),
    "fr": _words("Jean Marie Camille Léa Chloé Hélène François Benoît Céline Élodie Théo Noémie "
                 "Jérôme Inès Clément Gaëlle Anaïs Loïc Mathéo Zoé Jean-Luc Anne-Sophie "
                 "Marie-Claire Pierre-Yves Agnès Sébastien Maël"),
    "de": _words("Lukas Leon Jürgen Jörg Günther Björn Sören Anna Lena Lea Sophie Marie Hannah "
                 "Katharina Sabine Ursula Max Felix Paul Jonas Maximilian Tobias Stefan Hans-Peter "
                 "Karl-Heinz Anne-Kathrin Änne Özlem Mehmet"),
    "it": _words("Giuseppe Giovanni Antonio Mario Luca Marco Francesco Alessandro Matteo Lorenzo "
                 "Giulia Francesca Chiara Sara Martina Alessia Federica Elisa Niccolò Ilaria "
                 "Gianluca Pierpaolo Maria_Grazia"),
    "nl": _words("Daan Sem Lucas Milan Levi Emma Julia Mila Tess Sophie Zoë Anouk Bram Thijs Joris "
                 "Maarten Femke Sanne Lotte Ruud Geert Anneke Noortje Jan-Willem"),
    "pl": _words("Łukasz Małgorzata Paweł Agnieszka Piotr Katarzyna Krzysztof Anna Tomasz "
                 "Magdalena Michał Joanna Marcin Zofia Wojciech Grzegorz Jędrzej Aleksandra "
                 "Bartłomiej Żaneta"),
    "nordic": _words("Søren Mads Freja Ida Astrid Åsa Björn Erik Lars Ingrid Nils Maja Elsa Oskar "
                     "Anders Mette Kirsten Jens Mikko Aino Väinö Eetu Päivi Jukka Sanna Linnéa"),
    "in": _words("Aarav Vivaan Aditya Arjun Priya Ananya Diya Ishaan Rohan Sneha Kavya Rahul Pooja "
                 "Sai Lakshmi Vikram Neha Aisha Karthik Meera"),
    "jp": _words("Haruto Yuto Sota Yui Hina Sakura Ren Takumi Aoi Yuki Kenji Akiko Hiroshi Naoko "
                 "Daiki Emi Shōta Yūko Kōji Ryō"),
}
LAST = {
    "en": _words("Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor Anderson Thomas "
                 "Moore Martin Clark Walker Young King Wright Hill Scott Green Baker Adams Nelson "
                 "O'Brien O'Connor O'Neill McDonald Fitzgerald Smith-Jones Hughes-Whitaker Murphy "
                 "Kelly Byrne"),
    "es": _words("García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín "
                 "Jiménez Ruiz Hernández Díaz Moreno Álvarez Muñoz Romero Navarro Torres Domínguez "
                 "García-López Sánchez-Vidal Ortiz Castillo Núñez Peña Ibáñez"),
    "pt": _words("Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Sousa Fernandes "
                 "Gonçalves Gomes Lopes Marques Alves Almeida Ribeiro Pinto Carvalho Araújo "
                 "Magalhães Brandão Sá Conceição"),
    "fr": _words("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
                 "Laurent Lefèvre Michel Fontaine Rousseau Girard Bonnet Dupont Lambert Faure "
                 "Mercier Chevalier D'Arcy L'Heureux Saint-Martin Lefebvre-Roux Brûlé Périer "
                 "Hébert"),
    "de": _words("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
                 "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun "
                 "Krüger Hartmann Lange Werner Krause Köhler Groß Weiß Yılmaz Müller-Lüdenscheidt "
                 "Schulze-Wendt von_Bülow"),
    "it": _words("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno "
                 "Gallo Conti De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti D'Angelo "
                 "D'Amico Dell'Acqua Fabbri Barbieri Fontana Santoro Marchetti"),
    "nl": _words("de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer "
                 "de_Boer Mulder de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer "
                 "de_Wit Dijkstra van_der_Meer Van_Damme Peeters Maes Claes Wouters Goossens"),
    "pl": _words("Nowak Kowalski Kowalska Wiśniewski Wiśniewska Wójcik Kowalczyk Kamiński "
                 "Lewandowski Lewandowska Zieliński Szymański Woźniak Dąbrowski Kozłowski "
                 "Jankowski "
                 "Mazur Kwiatkowski Krawczyk Kaczmarek Nowak-Jeziorańska Żak Łuczak"),
    "nordic": _words("Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson "
                     "Svensson Lindqvist Jensen Nielsen Hansen Pedersen Andersen Christensen "
                     "Sørensen Møller Jørgensen Korhonen Virtanen Mäkinen Nieminen Hämäläinen "
                     "Järvinen Lehtonen Åberg Öberg Ström"),
    "in": _words("Sharma Verma Gupta Patel Singh Kumar Reddy Iyer Nair Menon Rao Chatterjee "
                 "Banerjee Mukherjee Das Joshi Mehta Shah Desai Pillai"),
    "jp": _words("Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato "
                 "Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Saitō"),
}
STREETS = {
    "en": _words("Main_Street Oak_Avenue Maple_Ave Cedar_Lane Elm_Street Washington_Blvd Park_Road "
                 "High_Street Church_Lane Station_Road Victoria_Road Mill_Lane Sunset_Drive "
                 "King's_Road Queen's_Parade"),
    "de": _words("Hauptstraße Bahnhofstraße Schillerstraße Goethestraße Lindenweg Gartenstraße "
                 "Kirchgasse Königsallee Am_Mühlbach"),
    "fr": _words("rue_de_la_République avenue_Victor-Hugo rue_du_Général-Leclerc "
                 "boulevard_Saint-Michel rue_des_Écoles place_de_l'Église rue_Émile-Zola"),
    "es": _words("Calle_Mayor Gran_Vía Calle_de_Alcalá Avenida_de_la_Constitución Calle_Real "
                 "Paseo_de_la_Castellana Calle_del_Sol Avenida_Insurgentes_Sur"),
    "it": _words("Via_Roma Via_Garibaldi Corso_Vittorio_Emanuele_II Via_Dante Piazza_del_Popolo "
                 "Via_dell'Indipendenza Via_Cavour"),
    "nl": _words("Kerkstraat Dorpsstraat Schoolstraat Molenweg Stationsstraat Prinsengracht "
                 "Keizersgracht Rue_de_la_Loi"),
    "pt": _words("Rua_Augusta Avenida_da_Liberdade Rua_das_Flores Rua_de_Santa_Catarina "
                 "Avenida_Paulista Rua_Oscar_Freire Rua_São_João"),
    "pl": _words("ul._Długa ul._Marszałkowska ul._Piotrkowska ul._Świętojańska ul._Floriańska "
                 "al._Jerozolimskie"),
    "nordic": _words("Storgatan Drottninggatan Kungsgatan Vesterbrogade Nørregade "
                     "Mannerheimintie Hämeenkatu Aleksanterinkatu"),
    "in": _words("MG_Road Brigade_Road Linking_Road Anna_Salai Park_Street Nehru_Place"),
    "jp": _words("Shibuya Shinjuku Minato Chūō Umeda Nakagyō"),
}
_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "ß": "ss",
                           "đ": "d", "ı": "i", "œ": "oe", "ð": "d", "þ": "th"})


def ascii_slug(text):
    """'Dell'Acqua' -> 'dellacqua', 'García-López' -> 'garcia-lopez' (for e-mail addresses)."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9-]", "", text.decode().lower())


# (name, slug) pairs, so that the e-mail address does not have to be folded per customer.
FIRST = {group: [(name, ascii_slug(name)) for name in names] for group, names in FIRST.items()}
LAST = {group: [(name, ascii_slug(name)) for name in names] for group, names in LAST.items()}

EMAIL_DOMAINS = ["example.com"] * 4 + ["example.org", "example.net", "mail.example.com",
                                           "inbox.example.org", "post.example.net"]
COMPANY_WORDS = _words("Northwind Blue_Harbor Summit Brightpath Evergreen Lumen Atlas Nordlicht "
                       "Kestrel Pinecone Silverline Redwood Cobalt Helix Meridian Sunrise Tandem "
                       "Waypoint Alpenglow Solera Vértice Étoile Fjord")
COMPANY_KINDS = _words("Labs Consulting Studio Media Digital Analytics Partners Software Learning "
                       "Design Solutions Ventures")
COMPANY_MAILBOXES = _words("billing accounts finance invoices ap")
