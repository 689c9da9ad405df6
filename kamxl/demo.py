"""A realistic sample portfolio of account plans for `kamxl demo`.

The demo is the first thing a new user opens, so every sheet is filled with content a KAM
would recognise, in English or French, and every date is relative to ``today`` so the demo
always looks current. Plans are deterministic for a seed: one ``random.Random`` drives all.

Each account follows a profile that shapes its numbers and its story:

- ``healthy``: attractive, strong champion, good margin, little overdue: comes out "invest";
- ``steady``: average attractiveness and margin: mostly "maintain";
- ``at_risk``: attractive but weak position, detractors, high risks and churn signals,
  overdue actions, falling NRR and NPS: "maintain" or "de-prioritise";
- ``stale``: not reviewed for months, next review past, rituals and actions overdue;
- ``new``: just signed, sparse plan, few stakeholders, nothing rated yet: "unrated";
- ``tail``: small, low-margin, low attractiveness: "de-prioritise".
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from .demo_relations import add_relations
from .model import Plan, Row, new_plan
from .template import Template

Pair = tuple[str, str]  # (English, French)


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(","))


PROFILES = ("healthy", "steady", "at_risk", "stale", "new", "tail")
# One portfolio of 12 in the proportions a director would expect; repeated for larger demos.
_CYCLE = (
    "healthy",
    "at_risk",
    "stale",
    "new",
    "steady",
    "tail",
    "healthy",
    "steady",
    "at_risk",
    "healthy",
    "stale",
    "tail",
)


@dataclass(frozen=True)
class Profile:
    """Ranges that shape one kind of account; ratings are 1-5, money in euros."""

    attractiveness: tuple[int, int] | None
    position: tuple[int, int] | None
    margin: tuple[float, float]
    probability: tuple[float, float]
    revenue: tuple[int, int]
    growth: tuple[float, float]  # revenue target over last 12 months' revenue, minus 1
    nps: tuple[int, int]
    nrr: tuple[float, float]
    stakeholders: tuple[int, int]
    review_age: tuple[int, int]  # days since the last review
    contact_age: tuple[int, int]  # days since the last contact with a stakeholder
    stances: tuple[float, float, float, float, float]  # champion, ally, neutral, detractor, unknown
    actions: tuple[int, int]
    overdue: tuple[int, int]
    action_mix: tuple[float, float, float, float, float]  # done, open, planned, blocked, cancelled
    risks: tuple[int, int]
    high_risks: tuple[int, int]
    kpi_attainment: tuple[float, float]
    opportunities: tuple[int, int]
    objectives: tuple[int, int]
    objective_statuses: tuple[str, ...]
    smart_gaps: float
    whitespace_mix: tuple[float, float, float]  # owned, whitespace, not applicable
    client_years: tuple[int, int]


_PROFILES: dict[str, Profile] = {
    "healthy": Profile(
        attractiveness=(4, 5),
        position=(4, 5),
        margin=(0.36, 0.48),
        probability=(0.45, 0.9),
        revenue=(450_000, 2_400_000),
        growth=(0.08, 0.25),
        nps=(35, 70),
        nrr=(1.05, 1.22),
        stakeholders=(8, 12),
        review_age=(6, 45),
        contact_age=(2, 40),
        stances=(2, 4, 2, 0.4, 0.4),
        actions=(8, 12),
        overdue=(0, 1),
        action_mix=(5, 3, 2, 0.3, 0.3),
        risks=(1, 3),
        high_risks=(0, 0),
        kpi_attainment=(0.95, 1.15),
        opportunities=(4, 7),
        objectives=(4, 5),
        objective_statuses=("on_track", "on_track", "achieved", "on_track"),
        smart_gaps=0.1,
        whitespace_mix=(0.5, 0.38, 0.12),
        client_years=(3, 12),
    ),
    "steady": Profile(
        attractiveness=(3, 4),
        position=(3, 4),
        margin=(0.18, 0.26),
        probability=(0.2, 0.45),
        revenue=(200_000, 1_100_000),
        growth=(0.03, 0.1),
        nps=(10, 35),
        nrr=(0.97, 1.06),
        stakeholders=(6, 9),
        review_age=(15, 80),
        contact_age=(5, 70),
        stances=(1, 3, 3, 0.6, 1),
        actions=(6, 10),
        overdue=(1, 2),
        action_mix=(4, 3, 2, 0.5, 0.5),
        risks=(2, 3),
        high_risks=(0, 0),
        kpi_attainment=(0.8, 1.02),
        opportunities=(3, 6),
        objectives=(3, 4),
        objective_statuses=("on_track", "at_risk", "not_started", "on_track"),
        smart_gaps=0.2,
        whitespace_mix=(0.32, 0.5, 0.18),
        client_years=(3, 10),
    ),
    "at_risk": Profile(
        attractiveness=(3, 4),
        position=(1, 2),
        margin=(0.08, 0.2),
        probability=(0.1, 0.35),
        revenue=(300_000, 1_500_000),
        growth=(-0.08, 0.04),
        nps=(-35, 0),
        nrr=(0.72, 0.92),
        stakeholders=(5, 8),
        review_age=(35, 80),
        contact_age=(15, 150),
        stances=(0.3, 1.5, 2, 2.5, 1.5),
        actions=(7, 11),
        overdue=(3, 5),
        action_mix=(2, 2, 1, 1.5, 0.5),
        risks=(3, 5),
        high_risks=(2, 3),
        kpi_attainment=(0.5, 0.8),
        opportunities=(3, 5),
        objectives=(3, 4),
        objective_statuses=("at_risk", "missed", "at_risk", "on_track"),
        smart_gaps=0.4,
        whitespace_mix=(0.35, 0.42, 0.23),
        client_years=(2, 10),
    ),
    "stale": Profile(
        attractiveness=(2, 4),
        position=(2, 4),
        margin=(0.15, 0.3),
        probability=(0.15, 0.5),
        revenue=(150_000, 900_000),
        growth=(0.0, 0.12),
        nps=(0, 30),
        nrr=(0.9, 1.04),
        stakeholders=(5, 8),
        review_age=(130, 300),
        contact_age=(100, 260),
        stances=(1, 2.5, 2.5, 0.7, 1.3),
        actions=(6, 9),
        overdue=(3, 6),
        action_mix=(3, 1, 0.5, 0.5, 0.3),
        risks=(2, 4),
        high_risks=(0, 1),
        kpi_attainment=(0.6, 0.95),
        opportunities=(3, 5),
        objectives=(3, 4),
        objective_statuses=("on_track", "not_started", "on_track"),
        smart_gaps=0.4,
        whitespace_mix=(0.3, 0.5, 0.2),
        client_years=(2, 8),
    ),
    "new": Profile(
        attractiveness=None,
        position=None,
        margin=(0.15, 0.3),
        probability=(0.1, 0.3),
        revenue=(40_000, 160_000),
        growth=(1.5, 3.0),
        nps=(20, 50),
        nrr=(1.0, 1.0),
        stakeholders=(2, 4),
        review_age=(3, 25),
        contact_age=(1, 30),
        stances=(1, 2, 2, 0, 1),
        actions=(3, 4),
        overdue=(0, 0),
        action_mix=(0.5, 2, 3, 0, 0),
        risks=(0, 1),
        high_risks=(0, 0),
        kpi_attainment=(0.3, 0.6),
        opportunities=(1, 2),
        objectives=(2, 2),
        objective_statuses=("not_started", "on_track"),
        smart_gaps=0.4,
        whitespace_mix=(0.0, 0.8, 0.2),
        client_years=(0, 0),
    ),
    "tail": Profile(
        attractiveness=(1, 2),
        position=(2, 3),
        margin=(0.04, 0.16),
        probability=(0.05, 0.25),
        revenue=(50_000, 250_000),
        growth=(0.0, 0.05),
        nps=(-10, 25),
        nrr=(0.88, 1.0),
        stakeholders=(5, 7),
        review_age=(20, 85),
        contact_age=(20, 120),
        stances=(0.4, 2, 3, 1, 1.5),
        actions=(4, 6),
        overdue=(1, 1),
        action_mix=(2, 1, 1, 0.3, 1),
        risks=(1, 3),
        high_risks=(0, 0),
        kpi_attainment=(0.6, 0.9),
        opportunities=(1, 3),
        objectives=(2, 3),
        objective_statuses=("at_risk", "not_started", "on_track"),
        smart_gaps=0.3,
        whitespace_mix=(0.15, 0.4, 0.45),
        client_years=(1, 6),
    ),
}

# ---------------------------------------------------------------------------
# People and places. Every company and person is invented.
# ---------------------------------------------------------------------------
_KAMS: dict[str, tuple[str, ...]] = {
    "en": ("James Whitaker", "Emily Carter", "Priya Raman", "Daniel O'Brien"),
    "fr": ("Claire Dubois", "Julien Moreau", "Nadia Benali", "Sébastien Roux"),
}
# Our own people: executive sponsors (name, title) and account-team colleagues.
_SPONSORS: dict[str, tuple[Pair, ...]] = {
    "en": (("Helen Marsh", "COO"), ("Robert Kane", "CEO"), ("Sarah Okafor", "VP Customer Success")),
    "fr": (
        ("Isabelle Garnier", "Directrice générale adjointe"),
        ("Philippe Arnaud", "Directeur des opérations"),
        ("Anne-Sophie Leroy", "VP Customer Success"),
    ),
}
_COLLEAGUES: dict[str, tuple[str, ...]] = {
    "en": ("Tom Archer", "Grace Liu", "Ben Hollis", "Maya Fernandes"),
    "fr": ("Marc Delorme", "Lucie Perret", "Hugo Bénard", "Inès Karaoui"),
}
_FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # (men, women)
    "en": (
        ("Oliver", "George", "Michael", "David", "Andrew", "Richard", "Samuel", "Mark", "Ravi", "Lukas"),
        ("Sarah", "Laura", "Hannah", "Charlotte", "Megan", "Olivia", "Rachel", "Aisha", "Ingrid", "Fiona"),
    ),
    "fr": (
        ("Antoine", "Nicolas", "Olivier", "Pierre", "Mathieu", "Laurent", "Guillaume", "Karim", "Étienne"),
        ("Camille", "Isabelle", "Élodie", "Sandrine", "Aurélie", "Céline", "Hélène", "Léa", "Amina"),
    ),
}
_LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": _words(
        "Thompson, Hughes, Patel, Walsh, Bennett, Fischer, de Vries, Lindqvist, Murphy, Clarke, Turner, "
        "Novak, Jensen, Doyle, Harper, Sullivan, Brooks, Weber"
    ),
    "fr": _words(
        "Lefèvre, Girard, Bonnet, Mercier, Fournier, Lambert, Rousseau, Faure, Chevalier, Perrin, Masson, "
        "Gauthier, Renaud, Caron, Haddad, Marchand, Vidal, Lemoine"
    ),
}
# Invented company stems, combined with sector-specific patterns below.
_ROOTS: dict[str, tuple[str, ...]] = {
    "en": _words(
        "Corvane, Ashgrove, Kelbrook, Stenmark, Harrowgate, Brightwell, Fernleigh, Greymount, Tidewell, "
        "Halvorsen, Pennant, Thistledown, Calderwood, Quillon, Bramblecote, Westmere, Oakhaven, Larkspur, "
        "Ravensdale, Wexcombe, Aldermoor, Bluefen, Dunmore, Foxley, Hartwell, Kestrelbury, Linwood, "
        "Northcote, Vantor, Yarrowby"
    ),
    "fr": _words(
        "Valtorre, Brissane, Sérélan, Morvelle, Kervella, Lormière, Castelnoir, Vézelan, Orvaine, "
        "Belcourt, Pelletan, Ravenel, Duvalmont, Joncière, Auberval, Tréguel, Mirandol, Fontclair, "
        "Roquessol, Armentel, Sénéval, Chanterive, Carvalis, Estavel, Verdoline, Pradines, Sorvane, "
        "Quintarel, Lanvérac, Hautemarre"
    ),
}
_NAME_PATTERNS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "industry": ("{} Industries", "{} Precision Engineering", "{} Components"),
        "retail": ("{} Retail Group", "{} Home & Garden", "{} Stores"),
        "health": ("{} Pharma", "{} Health Partners", "{} Diagnostics"),
        "finance": ("{} Mutual", "{} Bank", "{} Insurance Group"),
        "public": ("{} County Council", "City of {}", "{} Water Authority"),
        "energy": ("{} Energy", "{} Utilities", "{} Renewables"),
        "tech": ("{} Telecom", "{} Networks", "{} Systems"),
        "transport": ("{} Freight", "{} Logistics", "{} Shipping Lines"),
        "agrifood": ("{} Dairies", "{} Foods", "{} Farmers Cooperative"),
        "services": ("{} Consulting", "{} Facilities Services", "{} Business Services"),
        "": ("{} Group", "{} Holdings"),
    },
    "fr": {
        "industry": ("{} Industrie", "Forges {}", "Mécanique {}"),
        "retail": ("Maison {}", "Comptoirs {}", "{} Distribution"),
        "health": ("Laboratoires {}", "Clinique {}", "{} Santé"),
        "finance": ("Mutuelle {}", "Banque {}", "{} Assurances"),
        "public": ("Métropole de {}", "Communauté d'agglomération de {}", "Syndicat des eaux de {}"),
        "energy": ("{} Énergies", "Énergies {}", "Hydro {}"),
        "tech": ("{} Télécom", "{} Numérique", "{} Systèmes"),
        "transport": ("Transports {}", "{} Logistique", "Messageries {}"),
        "agrifood": ("Coopérative {}", "Laiteries {}", "Moulins {}"),
        "services": ("{} Conseil", "Groupe {} Services", "{} Facility"),
        "": ("Groupe {}", "{} SA"),
    },
}
# (country name, cities, top-level domain); the first country comes up most often.
_COUNTRIES: dict[str, tuple[tuple[str, tuple[str, ...], str], ...]] = {
    "en": (
        ("United Kingdom", ("London", "Manchester", "Leeds", "Bristol", "Birmingham"), "co.uk"),
        ("United Kingdom", ("Glasgow", "Reading", "Cambridge"), "co.uk"),
        ("Ireland", ("Dublin", "Cork"), "ie"),
        ("United States", ("Boston", "Chicago", "Atlanta"), "com"),
        ("Germany", ("Munich", "Hamburg", "Düsseldorf"), "de"),
        ("Netherlands", ("Rotterdam", "Utrecht"), "nl"),
        ("Sweden", ("Gothenburg", "Malmö"), "se"),
    ),
    "fr": (
        ("France", ("Lyon", "Nantes", "Lille", "Toulouse", "Bordeaux"), "fr"),
        ("France", ("Rennes", "Paris", "Strasbourg", "Grenoble"), "fr"),
        ("Belgique", ("Bruxelles", "Liège", "Namur"), "be"),
        ("Suisse", ("Genève", "Lausanne"), "ch"),
        ("Luxembourg", ("Luxembourg",), "lu"),
        ("Canada", ("Montréal", "Québec"), "ca"),
    ),
}
_ABROAD: dict[str, tuple[str, ...]] = {
    "en": ("France", "Spain", "Poland", "Italy", "Belgium", "Denmark", "the United States", "Germany"),
    "fr": ("Espagne", "Pologne", "Italie", "Allemagne", "Royaume-Uni", "Maroc", "Portugal", "Roumanie"),
}

# ---------------------------------------------------------------------------
# Stakeholder job titles by business unit (catalogue order) and level:
# (English, French masculine, French feminine).
# ---------------------------------------------------------------------------
_TITLES: tuple[dict[str, tuple[str, str, str]], ...] = (
    {  # Head office
        "c_level": ("Chief Executive Officer", "Directeur général", "Directrice générale"),
        "director": ("Chief of Staff", "Directeur de cabinet", "Directrice de cabinet"),
        "manager": ("Strategy manager", "Responsable stratégie", "Responsable stratégie"),
        "user": ("Executive assistant", "Assistant de direction", "Assistante de direction"),
    },
    {  # Operations
        "c_level": ("Chief Operating Officer", "Directeur des opérations", "Directrice des opérations"),
        "director": ("Supply chain director", "Directeur supply chain", "Directrice supply chain"),
        "manager": ("Plant manager", "Responsable de site", "Responsable de site"),
        "user": ("Planning coordinator", "Planificateur", "Planificatrice"),
    },
    {  # Finance
        "c_level": ("Chief Financial Officer", "Directeur financier", "Directrice financière"),
        "director": (
            "Financial controller",
            "Directeur du contrôle de gestion",
            "Directrice du contrôle de gestion",
        ),
        "manager": ("Procurement manager", "Responsable achats", "Responsable achats"),
        "user": ("Accounts payable supervisor", "Comptable fournisseurs", "Comptable fournisseurs"),
    },
    {  # Sales & marketing
        "c_level": ("Chief Commercial Officer", "Directeur commercial", "Directrice commerciale"),
        "director": ("Marketing director", "Directeur marketing", "Directrice marketing"),
        "manager": ("CRM manager", "Responsable CRM", "Responsable CRM"),
        "user": ("Sales operations analyst", "Analyste ADV", "Analyste ADV"),
    },
    {  # IT
        "c_level": ("Chief Information Officer", "Directeur des systèmes d'information", "DSI"),
        "director": ("Head of IT architecture", "Directeur architecture SI", "Directrice architecture SI"),
        "manager": ("Applications manager", "Responsable applications", "Responsable applications"),
        "user": ("Business analyst", "Analyste métier", "Analyste métier"),
    },
)
_ROLES_BY_LEVEL = {
    "c_level": ("decision_maker", "executive", "budget_holder"),
    "director": ("budget_holder", "decision_maker", "influencer", "prescriber"),
    "manager": ("influencer", "prescriber", "buyer", "user"),
    "user": ("user", "user", "influencer"),
}
_LEVEL_WEIGHTS = {"c_level": 1.0, "director": 3.0, "manager": 3.0, "user": 2.0}
_STANCES = ("champion", "ally", "neutral", "detractor", "unknown")
_STRENGTH_BY_STANCE = {
    "champion": ("strong", "strong", "good"),
    "ally": ("good", "strong", "good"),
    "neutral": ("good", "weak"),
    "detractor": ("weak",),
    "unknown": ("weak",),
}
_ENGAGEMENT_BY_STANCE = {
    "champion": (4, 5),
    "ally": (3, 5),
    "neutral": (2, 3),
    "detractor": (1, 2),
    "unknown": (1, 2),
}
_INFLUENCE_BY_LEVEL = {"c_level": (4, 5), "director": (3, 5), "manager": (2, 4), "user": (1, 3)}

# ---------------------------------------------------------------------------
# Texts, as (English, French) pairs; {placeholders} are filled per account.
# ---------------------------------------------------------------------------
_PURCHASING: tuple[Pair, ...] = (
    (
        "Central procurement runs a yearly RFP; IT and the business co-sign above €100k.",
        "Les achats centraux lancent un appel d'offres annuel ; DSI et métier cosignent au-delà de 100 k€.",
    ),
    (
        "Framework agreement with preferred suppliers; each BU orders within the framework.",
        "Accord-cadre avec des fournisseurs référencés ; chaque BU commande dans ce cadre.",
    ),
    (
        "CFO approval above €50k; three quotes required; payment at 60 days.",
        "Validation du DAF au-delà de 50 k€ ; trois devis exigés ; paiement à 60 jours.",
    ),
    (
        "The steering committee decides; procurement negotiates the terms afterwards.",
        "Le comité de pilotage décide ; les achats négocient ensuite les conditions.",
    ),
)
_PURCHASING_PUBLIC: Pair = (
    "Public tender above the EU thresholds; call-offs from existing frameworks below.",
    "Appel d'offres public au-delà des seuils européens ; marchés subséquents en dessous.",
)
_NEWS: dict[str, tuple[Pair, ...]] = {
    "healthy": (
        (
            "Record year: revenue up 12%; the new CEO backs the digital programme.",
            "Année record : CA en hausse de 12 % ; le nouveau DG soutient le programme digital.",
        ),
        (
            "Acquired a competitor in {abroad}; integration starts next quarter.",
            "Rachat d'un concurrent ({abroad}) ; intégration au prochain trimestre.",
        ),
        (
            "Three-year transformation plan announced; IT budget up 15%.",
            "Plan de transformation à trois ans annoncé ; budget IT en hausse de 15 %.",
        ),
    ),
    "steady": (
        (
            "Stable results; cost control is this year's priority.",
            "Résultats stables ; la maîtrise des coûts est la priorité de l'année.",
        ),
        ("New procurement director appointed.", "Nouveau directeur des achats nommé."),
        ("HQ moves to a new campus next year.", "Le siège déménage sur un nouveau campus l'an prochain."),
    ),
    "at_risk": (
        (
            "Restructuring announced: two BUs merged, budgets frozen.",
            "Restructuration annoncée : deux BU fusionnées, budgets gelés.",
        ),
        (
            "Our champion left; the new CIO is reviewing every vendor.",
            "Notre champion est parti ; le nouveau DSI revoit tous les fournisseurs.",
        ),
        (
            "A competitor is running a pilot in the Operations BU.",
            "Un concurrent mène un pilote dans la BU Opérations.",
        ),
        (
            "Profit warning last quarter; cost-cutting plan under way.",
            "Avertissement sur résultats au dernier trimestre ; plan d'économies en cours.",
        ),
    ),
    "stale": (
        (
            "IT department reorganised (news from last year).",
            "Réorganisation de la DSI (information de l'an dernier).",
        ),
        ("No update since the last QBR.", "Pas de mise à jour depuis la dernière QBR."),
        ("Merger talks reported in the press.", "Rumeurs de fusion dans la presse."),
    ),
    "new": (
        (
            "First contract signed on {signed}; onboarding in progress.",
            "Premier contrat signé le {signed} ; onboarding en cours.",
        ),
        (
            "Won on a competitive tender against two incumbents; first contract signed on {signed}.",
            "Gagné sur appel d'offres face à deux sortants ; premier contrat signé le {signed}.",
        ),
    ),
    "tail": (
        (
            "Volumes down; the client favours low-cost suppliers.",
            "Volumes en baisse ; le client privilégie les fournisseurs à bas coût.",
        ),
        (
            "Small team with little IT budget; expects self-service.",
            "Petite équipe, peu de budget IT ; attend de l'autonomie.",
        ),
    ),
}
# (contract name, scope) by our offer code.
_CONTRACTS: dict[str, tuple[Pair, Pair]] = {
    "core_platform": (
        ("Platform subscription", "Abonnement plateforme"),
        (
            "Core platform subscription, {users} users",
            "Abonnement à la plateforme cœur, {users} utilisateurs",
        ),
    ),
    "analytics": (
        ("Analytics add-on", "Module analytique"),
        (
            "Dashboards and advanced analytics, {users} users",
            "Tableaux de bord et analyses avancées, {users} utilisateurs",
        ),
    ),
    "integration": (
        ("Master services agreement", "Contrat-cadre de services"),
        (
            "Framework for integration and consulting work",
            "Cadre des prestations d'intégration et de conseil",
        ),
    ),
    "managed": (
        ("Managed services", "Services managés"),
        (
            "Run and monitoring of the production platform",
            "Exploitation et supervision de la plateforme de production",
        ),
    ),
    "training": (
        ("Training framework", "Accord-cadre formation"),
        (
            "Training paths for key users and administrators",
            "Parcours de formation des utilisateurs clés et administrateurs",
        ),
    ),
    "support": (
        ("Premium support", "Support premium"),
        (
            "24/7 support, 4-hour response on critical incidents",
            "Support 24/7, intervention sous 4 h sur incident critique",
        ),
    ),
}
_AMENDMENTS: tuple[Pair, ...] = (
    ("Amendment 1: +{n} users", "Avenant 1 : +{n} utilisateurs"),
    ("Amendments 1-2: scope extended to {bu}", "Avenants 1-2 : périmètre étendu à {bu}"),
    ("Amendment 1: price indexation", "Avenant 1 : indexation des prix"),
)
_MARKETS: dict[str, tuple[Pair, ...]] = {
    "industry": (
        ("Industrial pumps", "Pompes industrielles"),
        ("Aftermarket services", "Services après-vente"),
        ("Automation components", "Composants d'automatisme"),
    ),
    "retail": (
        ("Home & garden", "Maison & jardin"),
        ("E-commerce", "E-commerce"),
        ("Private-label food", "Alimentaire à marque propre"),
    ),
    "health": (
        ("Generic drugs", "Médicaments génériques"),
        ("Medical devices", "Dispositifs médicaux"),
        ("Home care", "Hospitalisation à domicile"),
    ),
    "finance": (
        ("Home loans", "Crédit immobilier"),
        ("Property & casualty insurance", "Assurance IARD"),
        ("Wealth management", "Gestion de patrimoine"),
    ),
    "public": (
        ("Citizen services", "Services aux usagers"),
        ("Water & sanitation", "Eau & assainissement"),
        ("Public transport", "Transports publics"),
    ),
    "energy": (
        ("Residential electricity", "Électricité résidentielle"),
        ("Renewable generation", "Production renouvelable"),
        ("EV charging", "Recharge de véhicules électriques"),
    ),
    "tech": (
        ("Mobile services", "Services mobiles"),
        ("Fibre broadband", "Fibre très haut débit"),
        ("Cloud & hosting", "Cloud & hébergement"),
    ),
    "transport": (
        ("Road freight", "Transport routier"),
        ("Contract logistics", "Logistique contractuelle"),
        ("Last-mile delivery", "Livraison du dernier kilomètre"),
    ),
    "agrifood": (
        ("Dairy products", "Produits laitiers"),
        ("Flour & milling", "Farine & meunerie"),
        ("Ready meals", "Plats cuisinés"),
    ),
    "services": (
        ("Facility management", "Facility management"),
        ("IT consulting", "Conseil informatique"),
        ("Temporary staffing", "Travail temporaire"),
    ),
    "": (("Core business", "Cœur de métier"), ("New services", "Nouveaux services")),
}
_MARKET_COMMENTS: dict[str, tuple[Pair, ...]] = {
    "growing": (
        ("Demand driven by digitalisation", "Demande portée par la digitalisation"),
        ("Double-digit growth expected", "Croissance à deux chiffres attendue"),
    ),
    "stable": (
        ("Mature market, competition on price", "Marché mature, concurrence sur les prix"),
        ("Flat volumes, margins under pressure", "Volumes stables, marges sous pression"),
    ),
    "declining": (
        ("Volumes falling since last year", "Volumes en baisse depuis l'an dernier"),
        ("New regulation shrinks the market", "La nouvelle réglementation réduit le marché"),
    ),
}
# (objective, their KPI, challenges)
_CLIENT_OBJECTIVES: tuple[tuple[Pair, Pair, Pair], ...] = (
    (
        ("Cut order-to-cash cycle time by 20%", "Réduire de 20 % le cycle commande-encaissement"),
        ("Days sales outstanding", "DSO (jours)"),
        ("Legacy ERP, many manual steps", "ERP vieillissant, nombreuses étapes manuelles"),
    ),
    (
        (
            "Consolidate reporting onto one data platform",
            "Consolider le reporting sur une seule plateforme de données",
        ),
        ("Number of reporting tools", "Nombre d'outils de reporting"),
        ("Data spread across six systems", "Données dispersées dans six systèmes"),
    ),
    (
        ("Reduce IT run costs by 10%", "Réduire de 10 % les coûts d'exploitation IT"),
        ("IT run cost", "Coût de run IT"),
        ("Budget cut while volumes grow", "Budget en baisse, volumes en hausse"),
    ),
    (
        ("Open e-commerce in three new countries", "Ouvrir l'e-commerce dans trois nouveaux pays"),
        ("Online share of revenue", "Part du CA en ligne"),
        ("Local payment and tax rules", "Règles locales de paiement et de fiscalité"),
    ),
    (
        (
            "Publish CSRD sustainability reporting on time",
            "Publier le reporting de durabilité CSRD dans les délais",
        ),
        ("Audit-ready indicators", "Indicateurs auditables"),
        ("No single owner of ESG data", "Pas de responsable unique des données ESG"),
    ),
    (
        ("Digitalise field maintenance", "Digitaliser la maintenance terrain"),
        ("First-time fix rate", "Taux de résolution au premier passage"),
        ("Technicians' adoption of mobile tools", "Adoption des outils mobiles par les techniciens"),
    ),
    (
        ("Raise customer satisfaction to 4.5/5", "Porter la satisfaction client à 4,5/5"),
        ("CSAT", "CSAT"),
        ("Service quality uneven across regions", "Qualité de service inégale selon les régions"),
    ),
    (
        ("Integrate the acquired subsidiary within 12 months", "Intégrer la filiale rachetée en 12 mois"),
        ("Systems migrated", "Systèmes migrés"),
        ("Two cultures, duplicate tools", "Deux cultures, outils en doublon"),
    ),
    (
        ("Secure the supply chain against disruptions", "Sécuriser la chaîne d'approvisionnement"),
        ("On-time in-full rate", "Taux OTIF"),
        ("Single-sourced critical parts", "Pièces critiques en source unique"),
    ),
)
# Client objectives that only make sense in some sectors (by English text); others fit all.
_OBJECTIVE_SECTORS: dict[str, tuple[str, ...]] = {
    "Cut order-to-cash cycle time by 20%": (
        "industry",
        "retail",
        "tech",
        "transport",
        "agrifood",
        "services",
    ),
    "Open e-commerce in three new countries": ("retail", "agrifood", "tech", "services"),
    "Digitalise field maintenance": ("industry", "energy", "tech", "public", "transport", "health"),
    "Secure the supply chain against disruptions": ("industry", "retail", "agrifood", "transport", "health"),
    "Integrate the acquired subsidiary within 12 months": ("industry", "retail", "health", "finance", "tech"),
}
# Our SMART objectives by type: (objective, metric); targets are drawn per type.
_OUR_OBJECTIVES: dict[str, tuple[tuple[Pair, Pair], ...]] = {
    "upsell": (
        (
            (
                "Move {bu} to the {offer} premium edition",
                "Faire passer la BU {bu} à l'édition premium {offer}",
            ),
            ("Upsell ARR (€)", "ARR additionnel (€)"),
        ),
    ),
    "cross_sell": (
        (
            ("Sell {offer} to the {bu} team", "Vendre l'offre {offer} à la BU {bu}"),
            ("New ARR (€)", "Nouvel ARR (€)"),
        ),
    ),
    "renewal": (
        (
            (
                "Renew the platform contract for three years",
                "Renouveler le contrat plateforme pour trois ans",
            ),
            ("Contract value (€)", "Valeur du contrat (€)"),
        ),
    ),
    "expansion": (
        (
            ("Roll {offer} out to more sites", "Déployer l'offre {offer} sur de nouveaux sites"),
            ("Sites live", "Sites en production"),
        ),
        (
            ("Raise our share of wallet", "Augmenter notre part de portefeuille"),
            ("Share of wallet (%)", "Part de portefeuille (%)"),
        ),
    ),
    "new_bu": (
        (
            ("Win a first project with {bu}", "Signer un premier projet avec la BU {bu}"),
            ("Signed projects", "Projets signés"),
        ),
    ),
}
_STAKEHOLDER_STEPS: dict[str, tuple[Pair, ...]] = {
    "champion": (
        ("Co-present the value review at the next QBR", "Co-présenter la revue de valeur à la prochaine QBR"),
        ("Ask for a reference call with a prospect", "Demander un appel de référence avec un prospect"),
        ("Build the {offer} business case together", "Construire ensemble le business case {offer}"),
    ),
    "ally": (
        ("Invite to the {offer} workshop", "Inviter à l'atelier {offer}"),
        ("Share the roadmap preview", "Partager l'aperçu de la feuille de route"),
        ("Monthly check-in call", "Point téléphonique mensuel"),
    ),
    "neutral": (
        (
            "Book a discovery meeting on their priorities",
            "Planifier un rendez-vous de découverte sur ses priorités",
        ),
        ("Send the customer case study", "Envoyer l'étude de cas client"),
    ),
    "detractor": (
        (
            "Understand the objections: meeting with our sponsor",
            "Comprendre ses objections : rendez-vous avec notre sponsor",
        ),
        (
            "Fix the open incidents before the next meeting",
            "Traiter les incidents ouverts avant le prochain rendez-vous",
        ),
    ),
    "unknown": (
        ("Get an introduction through {champion}", "Obtenir une introduction via {champion}"),
        ("Find out their role in the renewal", "Identifier son rôle dans le renouvellement"),
    ),
}
_SWOT_QUADRANTS = ("strengths", "weaknesses", "opportunities", "threats")
# By SWOT dimension (English catalogue label, lower case), then quadrant: two variants each.
_SWOT: dict[str, dict[str, tuple[Pair, Pair]]] = {
    "product range": {
        "strengths": (
            (
                "Core platform and analytics both in daily use",
                "Plateforme cœur et analytique utilisées au quotidien",
            ),
            ("Our offer covers their main processes", "Notre offre couvre leurs processus clés"),
        ),
        "weaknesses": (
            ("No managed-services offer in their country", "Pas d'offre de services managés dans leur pays"),
            (
                "Mobile app lags behind their field needs",
                "Application mobile en retard sur leurs besoins terrain",
            ),
        ),
        "opportunities": (
            ("{offer} for the {bu} team", "L'offre {offer} pour la BU {bu}"),
            (
                "Roadmap modules match their three-year plan",
                "Les modules à venir collent à leur plan à trois ans",
            ),
        ),
        "threats": (
            (
                "Niche vendors sell cheaper point solutions",
                "Des acteurs de niche vendent des solutions ponctuelles moins chères",
            ),
            ("Their ERP vendor bundles a competing module", "Leur éditeur ERP inclut un module concurrent"),
        ),
    },
    "quality": {
        "strengths": (
            ("99.9% availability over the last 12 months", "Disponibilité de 99,9 % sur 12 mois"),
            ("Few critical tickets, fast resolution", "Peu de tickets critiques, résolution rapide"),
        ),
        "weaknesses": (
            ("Two major incidents last quarter", "Deux incidents majeurs au dernier trimestre"),
            (
                "Users find the documentation too technical",
                "Documentation jugée trop technique par les utilisateurs",
            ),
        ),
        "opportunities": (
            ("Premium support with a named engineer", "Support premium avec un ingénieur dédié"),
            ("Quality audit offered with the renewal", "Audit qualité offert avec le renouvellement"),
        ),
        "threats": (
            ("SLA penalties if incidents recur", "Pénalités SLA si les incidents se répètent"),
            (
                "Users compare us with consumer apps",
                "Les utilisateurs nous comparent aux applis grand public",
            ),
        ),
    },
    "branding": {
        "strengths": (
            (
                "Seen as the reference vendor in their industry",
                "Perçus comme l'éditeur de référence de leur secteur",
            ),
            (
                "Client spoke at our user conference",
                "Le client est intervenu à notre conférence utilisateurs",
            ),
        ),
        "weaknesses": (
            ("Little known outside the IT department", "Peu connus en dehors de la DSI"),
            ("Brand still tied to the old product", "Marque encore associée à l'ancien produit"),
        ),
        "opportunities": (
            ("Joint case study and press release", "Étude de cas et communiqué de presse communs"),
            (
                "Co-host a round table at the industry fair",
                "Co-animer une table ronde au salon professionnel",
            ),
        ),
        "threats": (
            (
                "A competitor sponsors their industry events",
                "Un concurrent sponsorise leurs événements sectoriels",
            ),
            ("Negative review from a former user", "Avis négatif d'un ancien utilisateur"),
        ),
    },
    "price": {
        "strengths": (
            ("Lowest total cost over three years", "Coût total le plus bas sur trois ans"),
            (
                "Value review shows payback in 14 months",
                "La revue de valeur montre un retour sur investissement en 14 mois",
            ),
        ),
        "weaknesses": (
            ("List price 15% above the market", "Prix catalogue 15 % au-dessus du marché"),
            ("Licence model hard to understand", "Modèle de licence difficile à comprendre"),
        ),
        "opportunities": (
            ("Multi-year deal against a volume discount", "Engagement pluriannuel contre remise sur volume"),
            ("Usage-based pricing for new BUs", "Tarification à l'usage pour les nouvelles BU"),
        ),
        "threats": (
            (
                "Procurement benchmarks us against low-cost offers",
                "Les achats nous comparent à des offres low-cost",
            ),
            ("10% cut requested from every vendor", "Baisse de 10 % demandée à tous les fournisseurs"),
        ),
    },
    "channels": {
        "strengths": (
            ("Direct relationship with IT and the business", "Relation directe avec la DSI et les métiers"),
            ("Certified local partner on site", "Partenaire local certifié sur site"),
        ),
        "weaknesses": (
            ("No presence in their foreign subsidiaries", "Pas de présence dans leurs filiales à l'étranger"),
            ("The partner handles most daily contact", "Le partenaire gère l'essentiel du contact quotidien"),
        ),
        "opportunities": (
            (
                "Listing on their cloud provider's marketplace",
                "Référencement sur la place de marché de leur fournisseur cloud",
            ),
            (
                "Reach subsidiaries through the group framework",
                "Atteindre les filiales via l'accord-cadre groupe",
            ),
        ),
        "threats": (
            (
                "Their integrator pushes a competing solution",
                "Leur intégrateur pousse une solution concurrente",
            ),
            ("Purchases centralised through a reseller", "Achats centralisés via un revendeur"),
        ),
    },
    "promotions": {
        "strengths": (
            ("Joined our early-adopter programme", "A rejoint notre programme early adopter"),
            ("Free training credits well used", "Crédits de formation offerts bien utilisés"),
        ),
        "weaknesses": (
            ("Few joint marketing actions so far", "Peu d'actions marketing communes à ce jour"),
            ("Last webinar poorly attended by their teams", "Dernier webinaire peu suivi par leurs équipes"),
        ),
        "opportunities": (
            ("Innovation day at their HQ", "Journée innovation à leur siège"),
            ("Beta access to the AI assistant", "Accès bêta à l'assistant IA"),
        ),
        "threats": (
            ("A competitor offers the first year free", "Un concurrent offre la première année"),
            (
                "Past promotions set discount expectations",
                "Les promotions passées créent des attentes de remise",
            ),
        ),
    },
    "merchandising": {
        "strengths": (
            (
                "Live dashboards on show in their control room",
                "Tableaux de bord en direct affichés en salle de contrôle",
            ),
            (
                "Hosted a reference visit for two prospects",
                "Visite de référence accueillie pour deux prospects",
            ),
        ),
        "weaknesses": (
            (
                "No in-app guidance: users miss new features",
                "Pas de guidage intégré : les nouveautés passent inaperçues",
            ),
            ("Demo environment out of date", "Environnement de démonstration obsolète"),
        ),
        "opportunities": (
            ("Dedicated {offer} demo for the {bu} team", "Démo {offer} dédiée pour la BU {bu}"),
            ("Release notes tailored to their processes", "Notes de version adaptées à leurs processus"),
        ),
        "threats": (
            ("Competitor demos on their premises", "Démos concurrentes dans leurs locaux"),
            ("Change fatigue among users", "Lassitude des utilisateurs face au changement"),
        ),
    },
}
_SWOT_GENERIC: dict[str, tuple[Pair, Pair]] = {
    "strengths": (("Trusted by the operational teams", "Confiance des équipes opérationnelles"),) * 2,
    "weaknesses": (("Limited visibility at executive level", "Visibilité limitée auprès de la direction"),)
    * 2,
    "opportunities": (("{offer} for the {bu} team", "L'offre {offer} pour la BU {bu}"),) * 2,
    "threats": (("Budget pressure and competing vendors", "Pression budgétaire et concurrents"),) * 2,
}
_WHITESPACE_STEPS: dict[str, tuple[Pair, ...]] = {
    "whitespace": (
        ("Qualify the need with {stakeholder}", "Qualifier le besoin avec {stakeholder}"),
        ("Present a use case at the next QBR", "Présenter un cas d'usage à la prochaine QBR"),
        ("Offer a 30-day trial", "Proposer un essai de 30 jours"),
    ),
    "pipeline": (
        ("Proposal sent: follow up", "Proposition envoyée : relancer"),
        ("Demo planned", "Démo planifiée"),
    ),
    "owned": (
        ("Review usage at the QBR", "Revoir l'usage en QBR"),
        ("Extend to more users", "Étendre à davantage d'utilisateurs"),
    ),
    "not_applicable": (
        ("Handled by group IT", "Géré par la DSI groupe"),
        ("No need today", "Pas de besoin aujourd'hui"),
    ),
}
_OPPORTUNITY_NAMES: dict[str, Pair] = {
    "upsell": ("{offer} upgrade ({bu})", "Montée de version {offer} ({bu})"),
    "cross_sell": ("{offer} for {bu}", "{offer_cap} pour la BU {bu}"),
    "renewal": ("{offer} renewal {year}", "Renouvellement {offer} {year}"),
    "expansion": ("{offer} roll-out to new sites ({bu})", "Déploiement {offer} nouveaux sites ({bu})"),
    "new_business": ("{offer}: new programme ({bu})", "{offer_cap} : nouveau programme ({bu})"),
}
_OPPORTUNITY_STEPS: dict[str, tuple[Pair, ...]] = {
    "prospecting": (("Book a discovery call", "Planifier un appel de découverte"),),
    "qualification": (
        ("Confirm budget and timing with {stakeholder}", "Confirmer budget et calendrier avec {stakeholder}"),
        ("Map the decision makers", "Identifier les décideurs"),
    ),
    "proposal": (
        ("Present the proposal to the steering committee", "Présenter la proposition au comité de pilotage"),
        ("Send the revised quote", "Envoyer le devis révisé"),
    ),
    "negotiation": (
        ("Agree the final terms with procurement", "Finaliser les conditions avec les achats"),
        ("Legal review of the contract", "Revue juridique du contrat"),
    ),
    "won": (("Kick-off meeting with the project team", "Réunion de lancement avec l'équipe projet"),),
    "lost": (
        ("Debrief: lost on price", "Débrief : perdue sur le prix"),
        ("Debrief: project postponed by the client", "Débrief : projet reporté par le client"),
    ),
}
_ACTIONS: tuple[Pair, ...] = (
    (
        "Prepare the QBR deck with usage and value figures",
        "Préparer le support de QBR avec les chiffres d'usage et de valeur",
    ),
    (
        "Meet {stakeholder} to present the {offer} roadmap",
        "Rencontrer {stakeholder} pour présenter la feuille de route {offer}",
    ),
    (
        "Run a 12-month value review with {stakeholder}",
        "Conduire une revue de valeur sur 12 mois avec {stakeholder}",
    ),
    ("Send the {offer} proposal for {bu}", "Envoyer la proposition {offer} pour la BU {bu}"),
    (
        "Organise an executive dinner for {sponsor} and {stakeholder}",
        "Organiser un dîner de direction entre {sponsor} et {stakeholder}",
    ),
    ("Map the decision process for the renewal", "Cartographier le processus de décision du renouvellement"),
    ("Build a joint success plan with {bu}", "Co-construire un plan de succès avec la BU {bu}"),
    (
        "Invite {stakeholder} to the customer advisory board",
        "Inviter {stakeholder} au comité consultatif clients",
    ),
    ("Run a {offer} workshop for key users", "Animer un atelier {offer} pour les utilisateurs clés"),
    (
        "Close the open critical tickets with support",
        "Clôturer les tickets critiques ouverts avec le support",
    ),
    (
        "Get an introduction to the CFO through {stakeholder}",
        "Obtenir une introduction auprès du DAF via {stakeholder}",
    ),
    (
        "Update the stakeholder map after the reorganisation",
        "Mettre à jour la cartographie après la réorganisation",
    ),
    (
        "Write the reference case study and get it approved",
        "Rédiger l'étude de cas de référence et la faire valider",
    ),
    (
        "Benchmark our pricing against the competing offer",
        "Comparer notre tarification à l'offre concurrente",
    ),
    (
        "Scope the {offer} pilot and its success criteria",
        "Cadrer le pilote {offer} et ses critères de succès",
    ),
    ("Review the SLA report with {stakeholder}", "Revoir le rapport SLA avec {stakeholder}"),
)
_ACTION_COMMENTS: dict[str, tuple[Pair, ...]] = {
    "done": (
        ("Well received; follow-up planned", "Bien reçu ; suite planifiée"),
        ("Minutes shared with the client", "Compte rendu partagé avec le client"),
        ("Agreed at the last QBR", "Décidé lors de la dernière QBR"),
    ),
    "open": (
        ("Waiting for the client's availability", "En attente de disponibilités côté client"),
        ("Draft shared internally for review", "Brouillon partagé en interne pour relecture"),
        ("Depends on the budget decision", "Dépend de l'arbitrage budgétaire"),
    ),
    "blocked": (
        (
            "Blocked until procurement releases the budget",
            "Bloquée jusqu'au déblocage du budget par les achats",
        ),
        ("Blocked: {stakeholder} does not answer", "Bloquée : {stakeholder} ne répond pas"),
    ),
    "cancelled": (
        ("Cancelled: superseded by the COPIL decision", "Annulée : remplacée par la décision du COPIL"),
        ("Cancelled: project postponed by the client", "Annulée : projet reporté par le client"),
    ),
}
# (risk, mitigation, alert criterion) by category.
_RISKS: dict[str, tuple[tuple[Pair, Pair, Pair], ...]] = {
    "competitive": (
        (
            (
                "A competitor runs a free pilot in {bu}",
                "Un concurrent mène un pilote gratuit dans la BU {bu}",
            ),
            (
                "Value review with ROI figures; involve our sponsor",
                "Revue de valeur chiffrée ; impliquer notre sponsor",
            ),
            ("Pilot extended or budget requested", "Pilote prolongé ou budget demandé"),
        ),
        (
            (
                "Procurement wants to re-tender at renewal",
                "Les achats veulent relancer un appel d'offres au renouvellement",
            ),
            ("Early multi-year renewal offer", "Offre de renouvellement pluriannuel anticipée"),
            ("Tender notice published", "Avis d'appel d'offres publié"),
        ),
    ),
    "contractual": (
        (
            ("No decision maker engaged before the renewal", "Aucun décideur engagé avant le renouvellement"),
            (
                "Meet the budget holder six months before renewal",
                "Rencontrer le détenteur du budget six mois avant",
            ),
            ("No renewal meeting 90 days before the date", "Pas de réunion de renouvellement à J-90"),
        ),
        (
            ("Penalty clauses on SLA breaches", "Clauses de pénalités en cas de non-respect des SLA"),
            ("Monthly SLA review with delivery", "Revue SLA mensuelle avec l'équipe de livraison"),
            ("Two breaches in one quarter", "Deux manquements dans un trimestre"),
        ),
    ),
    "operational": (
        (
            ("Integration project six weeks late", "Projet d'intégration en retard de six semaines"),
            (
                "Add a senior consultant; weekly steering",
                "Renfort d'un consultant senior ; pilotage hebdomadaire",
            ),
            ("Go-live moved again", "Mise en production encore repoussée"),
        ),
        (
            (
                "Key-user adoption below 50% in {bu}",
                "Adoption par les utilisateurs clés sous 50 % dans la BU {bu}",
            ),
            ("Targeted training and floor-walkers", "Formations ciblées et accompagnement sur site"),
            ("Active users down two months running", "Utilisateurs actifs en baisse deux mois de suite"),
        ),
    ),
    "financial": (
        (
            ("Budget freeze announced for next year", "Gel budgétaire annoncé pour l'an prochain"),
            ("Phase the roll-out; offer an OPEX model", "Phaser le déploiement ; proposer un modèle OPEX"),
            ("Purchase orders on hold", "Bons de commande suspendus"),
        ),
        (
            ("Invoices paid beyond 90 days", "Factures payées au-delà de 90 jours"),
            (
                "Escalate to their finance team; review payment terms",
                "Escalade à leur direction financière ; revoir les conditions",
            ),
            ("Overdue invoices above €100k", "Impayés au-delà de 100 k€"),
        ),
    ),
    "relationship": (
        (
            (
                "Our champion {champion} may leave the company",
                "Notre champion {champion} pourrait quitter l'entreprise",
            ),
            ("Build ties with the successor and the CIO", "Créer le lien avec son successeur et le DSI"),
            ("Departure confirmed", "Départ confirmé"),
        ),
        (
            (
                "The new CIO favours a single-vendor strategy",
                "Le nouveau DSI privilégie un fournisseur unique",
            ),
            (
                "Meeting with our CEO; show the integration value",
                "Rencontre avec notre DG ; démontrer la valeur de l'intégration",
            ),
            ("Vendor consolidation project launched", "Projet de consolidation fournisseurs lancé"),
        ),
    ),
    "churn_signal": (
        (
            (
                "Platform usage down 30% over two quarters",
                "Usage de la plateforme en baisse de 30 % sur deux trimestres",
            ),
            (
                "Health check with key users; adoption plan",
                "Bilan avec les utilisateurs clés ; plan d'adoption",
            ),
            ("Monthly active users below 60% of licences", "Utilisateurs actifs sous 60 % des licences"),
        ),
        (
            (
                "Client asked about data export and exit terms",
                "Le client s'informe sur l'export des données et la sortie du contrat",
            ),
            (
                "Executive escalation to find the root cause",
                "Escalade au niveau direction pour comprendre la cause",
            ),
            ("Formal notice received", "Préavis formel reçu"),
        ),
    ),
    "dependency": (
        (
            (
                "Delivery depends on a partner we do not control",
                "La livraison dépend d'un partenaire que nous ne maîtrisons pas",
            ),
            ("Joint governance with the partner", "Gouvernance commune avec le partenaire"),
            ("Partner misses two milestones", "Le partenaire manque deux jalons"),
        ),
        (
            ("Our revenue relies on one BU ({bu})", "Notre CA repose sur une seule BU ({bu})"),
            ("Open two new BUs this year", "Ouvrir deux nouvelles BU cette année"),
            ("BU reorganisation announced", "Réorganisation de la BU annoncée"),
        ),
    ),
}
_DECISIONS: tuple[tuple[Pair, Pair], ...] = (
    (
        ("Launch a {offer} pilot in {bu}", "Lancer un pilote {offer} dans la BU {bu}"),
        (
            "Agreed at the COPIL; success criteria set together",
            "Validé en COPIL ; critères de succès définis ensemble",
        ),
    ),
    (
        (
            "Hold the QBR in the first week of each quarter",
            "Tenir la QBR la première semaine de chaque trimestre",
        ),
        ("Fits the client's budget reviews", "S'aligne sur les revues budgétaires du client"),
    ),
    (
        (
            "Freeze new features until the SLA backlog is cleared",
            "Geler les nouveautés jusqu'à résorption du retard SLA",
        ),
        ("Client request after two critical incidents", "Demande du client après deux incidents critiques"),
    ),
    (
        ("{sponsor} becomes our executive sponsor", "{sponsor} devient notre sponsor exécutif"),
        ("Mirrors the client's executive sponsorship", "En miroir du parrainage côté client"),
    ),
    (
        ("Joint roadmap workshop with {bu}", "Atelier de feuille de route commun avec la BU {bu}"),
        ("First session next quarter", "Première session au prochain trimestre"),
    ),
    (
        ("5% loyalty discount on the renewal", "Remise fidélité de 5 % sur le renouvellement"),
        (
            "Against a three-year term and a public reference",
            "Contre un engagement de trois ans et une référence publique",
        ),
    ),
    (
        (
            "Replace the monthly delivery meeting with a shared dashboard",
            "Remplacer le point de livraison mensuel par un tableau de bord partagé",
        ),
        (
            "Saves a meeting a month; escalations unchanged",
            "Une réunion de moins par mois ; escalades inchangées",
        ),
    ),
    (
        ("Escalate the invoicing dispute to both CFOs", "Escalader le litige de facturation aux deux DAF"),
        ("Stuck at operational level for six weeks", "Bloqué au niveau opérationnel depuis six semaines"),
    ),
)
# Assessment evidence by criterion (catalogue order): (high, middle, low) rating.
_EVIDENCE: tuple[tuple[Pair, Pair, Pair], ...] = (
    (
        ("Large IT budget and many untapped BUs", "Budget IT important et nombreuses BU non adressées"),
        ("Some growth left in two BUs", "Encore du potentiel dans deux BU"),
        ("Small budget, little room to grow", "Petit budget, peu de marge de croissance"),
    ),
    (
        ("Core target sector of our roadmap", "Secteur cible de notre feuille de route"),
        ("Partial fit with our roadmap", "Adéquation partielle avec notre feuille de route"),
        ("Needs far from our product direction", "Besoins éloignés de notre stratégie produit"),
    ),
    (
        ("Industry leader, willing to be a reference", "Leader du secteur, prêt à être référence"),
        ("Known in its region", "Connu dans sa région"),
        ("Little visibility; no reference possible", "Peu de visibilité ; pas de référence possible"),
    ),
    (
        ("Sound finances, diversified business", "Finances saines, activité diversifiée"),
        ("Exposed to one main market", "Exposé à un marché principal"),
        ("Financial difficulties reported", "Difficultés financières signalées"),
    ),
    (
        ("Open, collaborative teams", "Équipes ouvertes et collaboratives"),
        ("Process-heavy but constructive", "Très procédurier mais constructif"),
        ("Adversarial purchasing culture", "Culture achats conflictuelle"),
    ),
    (
        ("We are their main software vendor", "Nous sommes leur principal éditeur"),
        ("One vendor among three", "Un fournisseur parmi trois"),
        ("Minor share; a competitor dominates", "Part mineure ; un concurrent domine"),
    ),
    (
        ("Strong champion and C-level access", "Champion solide et accès à la direction générale"),
        (
            "Good operational ties, little C-level access",
            "Bons liens opérationnels, peu d'accès à la direction",
        ),
        ("Detractors in key roles", "Détracteurs à des postes clés"),
    ),
    (
        ("Only vendor covering their full scope", "Seul acteur couvrant tout leur périmètre"),
        ("On a par with two competitors", "Au niveau de deux concurrents"),
        ("Gaps in features they need", "Manques fonctionnels sur leurs besoins"),
    ),
    (
        ("Projects delivered on time and on budget", "Projets livrés dans les délais et le budget"),
        ("One late project, now back on track", "Un projet en retard, désormais recadré"),
        ("Late go-live and open escalations", "Mise en production tardive et escalades ouvertes"),
    ),
)
# How much a KPI improves per quarter, by profile (negative: getting worse).
_KPI_TRENDS = {
    "healthy": (0.01, 0.06),
    "steady": (-0.02, 0.04),
    "at_risk": (-0.08, -0.02),
    "stale": (-0.02, 0.03),
    "new": (0.0, 0.05),
    "tail": (-0.04, 0.02),
}
_RITUAL_DAYS = {
    "weekly": 7,
    "biweekly": 14,
    "monthly": 30,
    "quarterly": 91,
    "half_yearly": 182,
    "yearly": 365,
}


# ---------------------------------------------------------------------------
# Text and date utilities
# ---------------------------------------------------------------------------
def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str, sep: str = "-") -> str:
    words = re.findall(r"[a-z0-9]+", _ascii(text).lower().replace("'", ""))
    return sep.join(words)


def _join(items: list[str], lang: str) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {'and' if lang == 'en' else 'et'} {items[-1]}"


def _date_text(day: dt.date, lang: str) -> str:
    return day.isoformat() if lang == "en" else day.strftime("%d/%m/%Y")


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    return dt.date(year, month % 12 + 1, min(day.day, 28))


@dataclass
class _Person:
    name: str
    female: bool
    email: str


# ---------------------------------------------------------------------------
# One account
# ---------------------------------------------------------------------------
class _Account:
    """Builds one plan; every random draw comes from the portfolio's generator, in order."""

    def __init__(
        self,
        template: Template,
        rng: random.Random,
        today: dt.date,
        *,
        profile: str,
        lang: str,
        sector: str,
        client: str,
        kam: str,
        country: tuple[str, tuple[str, ...], str],
    ) -> None:
        self.template, self.rng, self.today = template, rng, today
        self.key, self.p, self.lang = profile, _PROFILES[profile], lang
        self.sector, self.client, self.kam = sector, client, kam
        self.country, self.cities, tld = country
        self.domain = f"{_slug(client)}.{tld}"
        self.bus = [bu[lang] for bu in template.catalogue["business_units"]]
        self.offers = list(template.choices["offer"])
        sponsor = rng.choice(_SPONSORS[lang])
        self.sponsor = sponsor[0]
        self.sponsor_text = f"{sponsor[0]} ({sponsor[1]})"
        self.colleagues = list(_COLLEAGUES[lang])
        self.plan = new_plan(template, lang, catalogue_targets=True)
        self.plan.account_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.people: list[Row] = []
        self.champion = ""
        self.has_champion = False
        self.objective_names: list[str] = []

    # -- basic draws -------------------------------------------------------
    def t(self, pair: Pair, **values: Any) -> str:
        text = pair[0] if self.lang == "en" else pair[1]
        return text.format(**values) if values else text

    def pick(self, pool: tuple[Pair, ...] | list[Pair], **values: Any) -> str:
        return self.t(self.rng.choice(pool), **values)

    def days(self, low: int, high: int) -> int:
        """Days in [low, high] from exactly one draw, so the day of the demo never shifts the stream."""
        return low + min(high - low, int(self.rng.random() * (high - low + 1)))

    def ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.days(low, high))

    def ahead(self, low: int, high: int) -> dt.date:
        return self.today + dt.timedelta(days=self.days(low, high))

    def between(self, low: float, high: float, step: float = 0.01) -> float:
        return round(round(self.rng.uniform(low, high) / step) * step, 4)

    def money(self, low: float, high: float, step: int = 1000) -> int:
        return int(round(self.rng.uniform(low, high) / step) * step)

    def offer_label(self, code: str, *, capital: bool = False) -> str:
        label = self.template.label("offer", code, self.lang)
        if self.lang == "fr" and not capital:
            return label[0].lower() + label[1:]
        return label

    def owner(self) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return self.kam
        return self.sponsor if roll > 0.9 else self.rng.choice(self.colleagues)

    def stakeholder(self) -> str:
        """A client contact, the influential ones more often: they are who actions target."""
        if not self.people:
            return self.champion
        return self.rng.choices(self.people, weights=[r["influence"] ** 2 for r in self.people])[0]["name"]

    def context(self, **extra: Any) -> dict[str, Any]:
        offer = self.rng.choice(self.offers)
        values = {
            "bu": self.rng.choice(self.bus),
            "offer": self.offer_label(offer),
            "offer_cap": self.offer_label(offer, capital=True),
            "stakeholder": self.stakeholder(),
            "sponsor": self.sponsor,
            "champion": self.champion or self.stakeholder(),
            "client": self.client,
        }
        return values | extra

    # -- the plan ----------------------------------------------------------
    def build(self) -> Plan:
        self.dates()
        self.stakeholders()
        self.info()
        self.contracts()
        self.markets()
        self.objectives()
        self.swot()
        self.whitespace_and_opportunities()
        self.actions()
        self.kpis()
        self.risks()
        self.governance()
        self.assessment()
        roles = ("presales", "delivery", "success", "finance_legal")
        team = [(self.kam, "account_lead"), (self.sponsor, "exec_sponsor"), *zip(self.colleagues, roles)]
        add_relations(self.plan, self.template, self.key, team)
        return self.plan

    def dates(self) -> None:
        p, rng = self.p, self.rng
        if self.key == "new":
            self.client_since = self.ago(25, 150)
            self.plan_start = self.client_since + dt.timedelta(days=rng.randint(5, 20))
        else:
            years = rng.randint(*p.client_years)
            self.client_since = _add_months(self.today, -12 * years - rng.randint(1, 11))
            back = rng.randint(14, 20) if self.key == "stale" else rng.randint(2, 11)
            self.plan_start = _add_months(self.today, -back).replace(day=1)
        self.last_review = max(self.plan_start, self.ago(*p.review_age))
        self.next_review = self.last_review + dt.timedelta(days=rng.choice((84, 91, 91, 98)))

    def person(self, used: set[str]) -> _Person:
        men, women = _FIRST_NAMES[self.lang]
        while True:
            female = self.rng.random() < 0.45
            first = self.rng.choice(women if female else men)
            last = self.rng.choice(_LAST_NAMES[self.lang])
            name = f"{first} {last}"
            if last not in used and first not in used and name != self.kam:
                used.update((first, last))
                email = f"{_slug(first, '')}.{_slug(name[len(first) + 1 :], '')}@{self.domain}"
                return _Person(name, female, email)

    def levels(self, count: int) -> list[str]:
        if self.key == "new":
            return ["director", "manager", "user", "manager"][:count]
        names, weights = zip(*_LEVEL_WEIGHTS.items(), strict=True)
        rest = self.rng.choices(names, weights=weights, k=count - 2)
        return ["c_level", "director", *rest]

    def stances(self, levels: list[str]) -> list[str]:
        stances = self.rng.choices(_STANCES, weights=self.p.stances, k=len(levels))
        if self.key in ("healthy", "steady", "stale", "new"):
            stances[1] = "champion"  # the director who sponsors us
        if self.key == "healthy":
            stances[0] = self.rng.choice(("champion", "ally"))
        if self.key == "at_risk":
            stances[0] = "detractor"
            stances[1] = self.rng.choice(("neutral", "unknown", "ally"))
        return stances

    def strength(self, stance: str) -> str:
        strength = self.rng.choice(_STRENGTH_BY_STANCE[stance])
        downgrade = {"at_risk": 0.5, "stale": 0.3, "tail": 0.3}.get(self.key, 0.0)
        if strength != "weak" and self.rng.random() < downgrade:
            strength = "good" if strength == "strong" else "weak"
        if self.key == "healthy" and stance == "champion":
            strength = "strong"
        return strength

    def stakeholders(self) -> None:
        count = self.rng.randint(*self.p.stakeholders)
        levels = self.levels(count)
        stances = self.stances(levels)
        used: set[str] = set()
        seats: set[tuple[int, str]] = set()  # one person per BU and level keeps job titles distinct
        for level, stance in zip(levels, stances, strict=True):
            free = [i for i in range(len(self.bus)) if (i, level) not in seats] or list(range(len(self.bus)))
            bu_index = self.rng.choice(free)
            seats.add((bu_index, level))
            self.people.append(self.stakeholder_row(level, stance, bu_index, self.person(used)))
        if self.key == "healthy":  # a healthy account's deciders do not work against us
            for row in self.people:
                if row["stance"] == "detractor" and row.get("role") in ("decision_maker", "budget_holder"):
                    row["role"] = "influencer"
        champions = [r["name"] for r in self.people if r["stance"] == "champion"]
        friendliest = max(self.people, key=lambda r: (r["stance"] in ("ally", "neutral"), r["engagement"]))
        self.has_champion = bool(champions)
        self.champion = champions[0] if champions else friendliest["name"]
        for row in self.people:
            row["next_step"] = self.pick(_STAKEHOLDER_STEPS[row["stance"]], **self.context())
        self.plan.tables["stakeholders"] = self.people

    def stakeholder_row(self, level: str, stance: str, bu_index: int, who: _Person) -> Row:
        rng = self.rng
        titles = _TITLES[bu_index % len(_TITLES)][level]
        title = titles[0] if self.lang == "en" else titles[2 if who.female else 1]
        engagement = rng.randint(*_ENGAGEMENT_BY_STANCE[stance])
        engaged = "yes" if stance in ("champion", "ally") and engagement >= 3 else "no"
        if stance == "neutral" and rng.random() < 0.3:
            engaged = "yes"
        known = stance != "unknown" or rng.random() < 0.5
        return {
            "name": who.name,
            "title": title,
            "bu": self.bus[bu_index],
            "role": rng.choice(_ROLES_BY_LEVEL[level]),
            "level": level,
            "stance": stance,
            "strength": self.strength(stance),
            "influence": rng.randint(*_INFLUENCE_BY_LEVEL[level]),
            "engagement": engagement,
            "last_contact": self.ago(*self.p.contact_age) if known else None,
            "owner": self.sponsor if level == "c_level" and rng.random() < 0.6 else self.owner(),
            "engaged": engaged,
            "email": who.email if known else None,
        }

    def info(self) -> None:
        p, rng, lang = self.p, self.rng, self.lang
        contact = next(
            (
                r
                for r in self.people
                if r["level"] in ("director", "manager") and r["stance"] in ("champion", "ally")
            ),
            max(self.people, key=lambda r: (r["email"] is not None, r["engagement"])),
        )
        revenue = self.money(*p.revenue, step=5000)
        self.revenue = revenue
        target = revenue * (1 + rng.uniform(*p.growth))
        abroad = rng.sample(_ABROAD[lang], rng.randint(1, 4))
        bus, sites = rng.randint(2, len(self.bus)), rng.randint(2, 40)
        city = rng.choice(self.cities)
        footprint = self.t(
            (
                "HQ in {city} ({country}); operations in {n} countries including {abroad}; "
                "{bus} business units, {sites} sites",
                "Siège à {city} ({country}) ; présent dans {n} pays dont {abroad} ; {bus} BU, {sites} sites",
            ),
            city=city,
            country=self.country,
            n=len(abroad) + 1,
            abroad=_join(abroad, lang),
            bus=bus,
            sites=sites,
        )
        purchasing = _PURCHASING_PUBLIC if self.sector == "public" else rng.choice(_PURCHASING)
        new = self.key == "new"
        self.plan.fields.update(
            {
                "client_name": self.client,
                "crm_id": None,  # unique across the portfolio: set by demo_portfolio
                "kam": self.kam,
                "sector": self.sector,
                "main_contact": contact["name"],
                "main_contact_email": contact["email"],
                "client_since": self.client_since,
                "country": self.country,
                "footprint": footprint,
                "website": f"https://www.{self.domain}",
                "purchasing_process": self.t(purchasing),
                "news": self.pick(
                    _NEWS[self.key], abroad=abroad[0], signed=_date_text(self.client_since, lang)
                ),
                "executive_sponsor": self.sponsor_text,
                "plan_start": self.plan_start,
                "plan_horizon_months": rng.choice((12, 18, 24, 24, 36)),
                "last_review": self.last_review,
                "next_review": self.next_review,
                "annual_revenue": revenue,
                "revenue_target": int(round(target, -4)),
                "client_revenue": self.money(40e6, 4e9, step=1_000_000),
                "gross_margin": self.between(*p.margin),
                "nrr": None if new else self.between(*p.nrr),
                "nps": None if new and rng.random() < 0.5 else rng.randint(*p.nps),
            }
        )

    def contracts(self) -> None:
        rng = self.rng
        count = 1 if self.key == "new" else rng.randint(2, min(4, len(self.offers)))
        offers = ["core_platform", *rng.sample([o for o in self.offers if o != "core_platform"], count - 1)]
        offers = [o for o in offers if o in self.offers] or self.offers[:1]
        shares = [rng.uniform(1, 3) if o == "core_platform" else rng.uniform(0.3, 1) for o in offers]
        rows = []
        for offer, share in zip(offers, shares, strict=True):
            signed = self.client_since if offer == "core_platform" else self.ago(60, 900)
            signed = max(signed, self.client_since)
            term = rng.choice((12, 24, 36))
            renewal = _add_months(signed, term)
            while renewal <= self.today:
                renewal = _add_months(renewal, term)
            if self.key == "at_risk" and offer == "core_platform":
                renewal = self.ahead(45, 120)
            name, scope = _CONTRACTS.get(offer, ((offer, offer), (offer, offer)))
            amend = None if rng.random() < 0.4 or self.key == "new" else rng.choice(_AMENDMENTS)
            rows.append(
                {
                    "contract": self.t(name),
                    "scope": self.t(scope, users=rng.choice((50, 120, 250, 400, 800))),
                    "signed": signed,
                    "renewal": renewal,
                    "amendments": self.t(amend, n=rng.choice((25, 50, 100)), bu=rng.choice(self.bus))
                    if amend
                    else None,
                    "annual_value": int(round(self.revenue * share / sum(shares), -3)),
                }
            )
        self.owned_offers = offers
        self.contracts_by_offer = dict(zip(offers, rows, strict=True))
        self.plan.tables["contracts"] = rows

    def markets(self) -> None:
        pool = _MARKETS.get(self.sector, _MARKETS[""])
        count = 1 if self.key == "new" else self.rng.randint(2, len(pool))
        trends = ("growing", "stable", "declining")
        weights = (1, 2, 3) if self.key in ("at_risk", "tail") else (3, 2, 1)
        rows = []
        for product in self.rng.sample(pool, count):
            trend = self.rng.choices(trends, weights=weights)[0]
            rows.append(
                {
                    "product": self.t(product),
                    "market_size": self.money(5e7, 3e9, step=10_000_000),
                    "trend": trend,
                    "comment": self.pick(_MARKET_COMMENTS[trend]),
                }
            )
        self.plan.tables["markets"] = rows

    def objectives(self) -> None:
        rng = self.rng
        count = 1 if self.key == "new" else rng.randint(2, 4)
        self.plan.tables["client_objectives"] = [
            {
                "objective": self.t(obj),
                "kpi": self.t(kpi),
                "budget": self.money(1e5, 5e6, step=50_000) if rng.random() < 0.8 else None,
                "challenges": self.t(challenges),
            }
            for obj, kpi, challenges in rng.sample(self.client_objective_pool(), count)
        ]
        types = [t for t in _OUR_OBJECTIVES if t in self.template.choices["objective_type"]]
        rng.shuffle(types)
        count = rng.randint(*self.p.objectives)
        rows = [self.our_objective(types[i % len(types)]) for i in range(count)]
        self.objective_names = [r["objective"] for r in rows]
        self.plan.tables["objectives"] = rows

    def client_objective_pool(self) -> list[tuple[Pair, Pair, Pair]]:
        return [
            o for o in _CLIENT_OBJECTIVES if self.sector in _OBJECTIVE_SECTORS.get(o[0][0], (self.sector,))
        ]

    def our_objective(self, kind: str) -> Row:
        rng = self.rng
        text, metric = rng.choice(_OUR_OBJECTIVES[kind])
        status = rng.choice(self.p.objective_statuses)
        progress = {"achieved": 1.0, "not_started": 0.0, "missed": self.between(0.2, 0.6, 0.05)}.get(
            status, self.between(0.2, 0.8, 0.05) if status == "on_track" else self.between(0.05, 0.4, 0.05)
        )
        if "%" in metric[0]:
            target: float = rng.choice((30, 35, 40))
        elif kind == "renewal":
            target = 3 * self.plan.tables["contracts"][0]["annual_value"]
        elif "€" in metric[0]:
            target = self.money(0.1 * self.revenue + 30_000, 0.5 * self.revenue + 60_000, step=10_000)
        else:
            target = rng.randint(1, 6)
        stale_deadline = self.key == "stale" and rng.random() < 0.5
        deadline = self.ago(10, 90) if stale_deadline or status == "missed" else self.ahead(45, 330)
        if status == "achieved":
            deadline = self.ago(5, 60)
        owned = kind in ("upsell", "renewal", "expansion")
        offers = [o for o in self.offers if (o in self.owned_offers) == owned] or self.offers
        offer = rng.choice(offers)
        context = self.context(offer=self.offer_label(offer))
        row: Row = {
            "objective": self.t(text, **context),
            "type": kind,
            "metric": self.t(metric),
            "target": target,
            "deadline": deadline,
            "owner": self.owner(),
            "status": status,
            "progress": progress,
        }
        if rng.random() < self.p.smart_gaps:
            row[rng.choice(("metric", "target", "deadline", "owner"))] = None
        return row

    def swot(self) -> None:
        catalogue = self.template.catalogue["swot_dimensions"]
        rows = self.plan.tables["swot"]
        filled = (
            self.rng.sample(range(len(rows)), min(len(rows), 3)) if self.key == "new" else range(len(rows))
        )
        for index in filled:
            english = catalogue[index]["en"].lower() if index < len(catalogue) else ""
            cells = _SWOT.get(english, _SWOT_GENERIC)
            for quadrant in _SWOT_QUADRANTS:
                if self.key == "new" and self.rng.random() < 0.4:
                    continue
                rows[index][quadrant] = self.pick(cells[quadrant], **self.context())

    def whitespace_and_opportunities(self) -> None:
        rows = self.plan.tables["whitespace"]
        self.whitespace_status(rows)
        opportunities = self.opportunities(rows)
        for row in rows:
            if row.get("status") in _WHITESPACE_STEPS and (
                row["status"] != "owned" or self.rng.random() < 0.3
            ):
                row["next_step"] = self.pick(_WHITESPACE_STEPS[row["status"]], **self.context())
        self.plan.tables["opportunities"] = opportunities

    def whitespace_status(self, rows: list[Row]) -> None:
        rng = self.rng
        owned_mix, white_mix, na_mix = self.p.whitespace_mix
        owned_rows = []
        for row in rows:
            if row["offer"] in self.owned_offers and row["bu"] == self.bus[0]:
                status = "owned"  # every contract runs at least at head office
            elif row["offer"] in self.owned_offers:
                status = rng.choices(
                    ("owned", "whitespace", "not_applicable"), (owned_mix + 0.3, white_mix, na_mix)
                )[0]
            else:
                status = rng.choices(("whitespace", "not_applicable"), (white_mix, na_mix))[0]
            row["status"] = status
            if status == "owned":
                owned_rows.append(row)
            elif status == "whitespace":
                row["potential"] = self.money(15_000, 60_000 + 0.12 * self.revenue, step=5000)
        for offer, contract in self.contracts_by_offer.items():
            rows_of_offer = [r for r in owned_rows if r["offer"] == offer]
            weights = [rng.uniform(0.5, 2) for _ in rows_of_offer]
            for row, weight in zip(rows_of_offer, weights, strict=True):
                row["current_revenue"] = int(round(contract["annual_value"] * weight / sum(weights), -3))
                if rng.random() < 0.3:
                    row["potential"] = self.money(10_000, 40_000 + 0.05 * self.revenue, step=5000)

    def opportunities(self, whitespace: list[Row]) -> list[Row]:
        rng = self.rng
        count = rng.randint(*self.p.opportunities)
        white = [r for r in whitespace if r.get("status") == "whitespace"]
        owned = [r for r in whitespace if r.get("status") == "owned"]
        result: list[Row] = []
        renewed: set[str] = set()
        for index in range(count):
            if (index % 2 == 0 or not owned) and white:
                row = white.pop(rng.randrange(len(white)))
                kind = rng.choice(("cross_sell", "new_business"))
                row["status"] = "pipeline"
            else:
                kind = rng.choice(("upsell", "renewal", "expansion"))
                due = [r for r in owned if r["bu"] == self.bus[0] and r["offer"] not in renewed]
                if kind == "renewal" and not due:
                    kind = "upsell"
                row = rng.choice(due if kind == "renewal" else owned)
                if kind == "renewal":
                    renewed.add(row["offer"])
            result.append(self.opportunity(row, kind, closed=index >= 2 and self.closed_deal()))
            if row["status"] == "pipeline":
                row["potential"] = result[-1]["amount"]
        return result

    def closed_deal(self) -> bool:
        return self.key in ("healthy", "steady", "at_risk") and self.rng.random() < 0.35

    def opportunity(self, row: Row, kind: str, *, closed: bool) -> Row:
        rng = self.rng
        offer = row["offer"]
        if closed:
            stage = "won" if rng.random() < (0.7 if self.key == "healthy" else 0.4) else "lost"
            probability = 1.0 if stage == "won" else 0.0
            close = self.ago(10, 150)
        else:
            probability = self.between(*self.p.probability, step=0.05)
            stage = self.stage(probability)
            if kind == "renewal" and stage in ("prospecting", "qualification"):
                stage = "proposal"  # a renewal is always on the table
            slipped = self.key in ("stale", "at_risk") and rng.random() < 0.4
            close = self.ago(5, 60) if slipped else self.ahead(15, 240)
        contract = self.contracts_by_offer.get(offer)
        if kind == "renewal" and contract:
            amount = contract["annual_value"]
            notice = dt.timedelta(days=rng.randint(0, 30))
            if not closed and contract["renewal"] - dt.timedelta(days=30) > self.today:
                close = contract["renewal"] - notice
        elif kind == "upsell":
            amount = self.money(20_000, 40_000 + 0.2 * self.revenue, step=5000)
        else:
            amount = self.money(30_000, 80_000 + 0.3 * self.revenue, step=5000)
        name = self.t(
            _OPPORTUNITY_NAMES[kind],
            offer=self.offer_label(offer),
            offer_cap=self.offer_label(offer, capital=True),
            bu=row["bu"],
            year=close.year,
        )
        return {
            "name": name,
            "type": kind,
            "offer": offer,
            "bu": row["bu"],
            "amount": amount,
            "probability": probability,
            "stage": stage,
            "expected_close": close,
            "next_step": self.pick(_OPPORTUNITY_STEPS[stage], **self.context()),
            "owner": self.kam if rng.random() < 0.8 else self.rng.choice(self.colleagues),
        }

    @staticmethod
    def stage(probability: float) -> str:
        if probability < 0.2:
            return "prospecting"
        if probability < 0.4:
            return "qualification"
        return "proposal" if probability < 0.65 else "negotiation"

    def actions(self) -> None:
        rng, p = self.rng, self.p
        count = rng.randint(*p.actions)
        overdue = min(count, rng.randint(*p.overdue))
        states = ["overdue"] * overdue + rng.choices(
            ("done", "open", "planned", "blocked", "cancelled"), weights=p.action_mix, k=count - overdue
        )
        rng.shuffle(states)
        texts = rng.sample(_ACTIONS, count)
        rows = [self.action(text, state) for text, state in zip(texts, states, strict=True)]
        rows.sort(key=lambda r: r["due"])
        self.plan.tables["actions"] = rows

    def action(self, text: Pair, state: str) -> Row:
        rng = self.rng
        old = self.key == "stale"
        done_date = None
        if state == "overdue":
            status = rng.choice(("in_progress", "in_progress", "not_started", "blocked"))
            due = self.ago(40, 200) if old else self.ago(3, 60)
            start = due - dt.timedelta(days=rng.randint(14, 60))
        elif state == "done":
            status = "done"
            due = self.ago(60, 330) if old else self.ago(-20, 150)
            start = due - dt.timedelta(days=rng.randint(14, 60))
            done_date = min(self.today, max(start, due + dt.timedelta(days=rng.randint(-15, 7))))
        elif state == "planned":
            status = "not_started"
            start = self.ahead(0, 30)
            due = start + dt.timedelta(days=rng.randint(14, 60))
        else:
            status = {"open": "in_progress", "blocked": "blocked", "cancelled": "cancelled"}[state]
            start = self.ago(5, 60)
            due = self.ahead(5, 75)
        start = max(start, self.plan_start - dt.timedelta(days=30))
        ctx = self.context()
        comment_pool = _ACTION_COMMENTS.get(
            {"overdue": "blocked" if status == "blocked" else "open", "planned": "open"}.get(state, state)
        )
        return {
            "action": self.t(text, **ctx),
            "objective": rng.choice(self.objective_names)
            if self.objective_names and rng.random() < 0.8
            else None,
            "stakeholder": ctx["stakeholder"],
            "owner": self.owner(),
            "start": start,
            "due": due,
            "status": status,
            "done_date": done_date,
            "comment": self.pick(comment_pool, **ctx) if comment_pool and rng.random() < 0.7 else None,
        }

    def quarters(self) -> list[str]:
        periods = [c.key for c in self.template.table("kpis").columns if c.period]
        current = min(len(periods), max(1, _months_between(self.plan_start, self.today) // 3 + 1))
        if self.key == "stale":
            current = max(1, current - 2)  # values stopped being entered
        return periods[:current]

    def kpis(self) -> None:
        quarters = self.quarters()
        catalogue = self.template.catalogue["kpis"]
        engaged = sum(1 for r in self.people if r["engaged"] == "yes")
        for index, row in enumerate(self.plan.tables["kpis"]):
            english = catalogue[index]["name"]["en"] if index < len(catalogue) else ""
            final = self.kpi_final(english, row, engaged)
            if final is None or (self.key == "new" and (row["active"] != "yes" or self.rng.random() < 0.4)):
                continue
            if row["active"] != "yes" and self.rng.random() < 0.6:
                continue
            self.kpi_series(row, quarters, final)

    def kpi_final(self, english: str, row: Row, engaged: int) -> float | None:
        """The latest value of a KPI, consistent with the Info sheet where the KPI mirrors a field."""
        fields = self.plan.fields
        if english.startswith("Revenue generated"):
            row["target"] = fields["revenue_target"]
            return float(fields["annual_revenue"])
        if english.startswith("Net revenue retention"):
            return fields["nrr"]
        if english == "NPS":
            return None if fields["nps"] is None else float(fields["nps"])
        if english == "Gross margin":
            return fields["gross_margin"]
        if english.startswith("Key contacts engaged"):
            row["target"] = max(3, round(len(self.people) * 0.75))
            return float(engaged)
        if english.startswith("Business units involved"):
            return float(len({r["bu"] for r in self.people}))
        target = row.get("target")
        if not isinstance(target, (int, float)) or not target:
            return None
        attainment = self.rng.uniform(*self.p.kpi_attainment)
        return target * attainment if row.get("direction") != "lower" else target / attainment

    def kpi_series(self, row: Row, quarters: list[str], final: float) -> None:
        """Quarter values drifting towards the latest one, rounded to the KPI's unit."""
        unit = str(row.get("unit") or "")
        trend = self.rng.uniform(*_KPI_TRENDS[self.key])  # improvement per quarter
        if row.get("direction") == "lower":
            trend = -trend
        count = len(quarters)
        for step, key in enumerate(quarters):
            back = count - 1 - step
            if unit == "pts":
                value = final - 100 * trend * back + self.rng.randint(-2, 2) * bool(back)
            else:
                value = final * (1 - trend * back) * (self.rng.uniform(0.97, 1.03) if back else 1)
            row[key] = round(value, 3) if unit == "%" else round(value, -3) if unit == "€" else round(value)

    def risks(self) -> None:
        rng, p = self.rng, self.p
        count = rng.randint(*p.risks)
        high = min(count, rng.randint(*p.high_risks))
        categories = [c for c in _RISKS if c in self.template.choices["risk_category"]]
        calm = [c for c in categories if c not in ("churn_signal", "relationship")]
        if self.key == "at_risk":
            chosen = ["churn_signal", "relationship", *rng.sample(calm, count - 2)]
        else:
            chosen = rng.sample(calm, count)
        rows = []
        for index, category in enumerate(chosen):
            options = _RISKS[category]
            if category == "relationship" and not self.has_champion:
                options = options[1:]  # no champion to lose
            risk, mitigation, alert = rng.choice(options)
            severe = index < high
            ctx = self.context()
            rows.append(
                {
                    "risk": self.t(risk, **ctx),
                    "category": category,
                    "probability": rng.randint(4, 5) if severe else rng.randint(1, 3),
                    "impact": rng.randint(4, 5) if severe else rng.randint(2, 4),
                    "mitigation": None
                    if severe and index == 0 and self.key != "healthy"
                    else self.t(mitigation),
                    "owner": self.owner(),
                    "alert": self.t(alert),
                    "status": "open"
                    if severe
                    else rng.choice(("open", "monitoring", "monitoring", "closed")),
                }
            )
        self.plan.tables["risks"] = rows

    def governance(self) -> None:
        rng = self.rng
        late = {"stale": 0.8, "at_risk": 0.5, "tail": 0.3, "steady": 0.15}.get(self.key, 0.0)
        for row in self.plan.tables["rituals"]:
            period = _RITUAL_DAYS.get(str(row.get("frequency")), 91)
            if self.key == "new" and row["ritual"] not in ("copil", "qbr", "update_mail"):
                continue
            names = rng.sample([r["name"] for r in self.people], min(2, len(self.people)))
            row["participants"] = f"{', '.join(names)}; {self.kam}, {rng.choice(self.colleagues)}"
            if self.key == "new":
                row["next_due"] = self.ahead(3, min(period, 45))
                continue
            if rng.random() < late:
                row["last_held"] = self.ago(period + 10, period + 150)
            else:
                row["last_held"] = self.ago(1, max(2, period - 3))
            row["next_due"] = row["last_held"] + dt.timedelta(days=period)
        count = rng.randint(0, 1) if self.key == "new" else rng.randint(2, 5)
        self.plan.tables["decisions"] = sorted(
            (self.decision(decision, comment) for decision, comment in rng.sample(_DECISIONS, count)),
            key=lambda r: r["date"],
        )

    def decision(self, decision: Pair, comment: Pair) -> Row:
        ctx = self.context()
        oldest = (self.today - self.plan_start).days + 30
        return {
            "date": self.ago(7, max(8, oldest)),
            "decision": self.t(decision, **ctx),
            "owner": self.owner(),
            "comment": self.t(comment, **ctx),
        }

    def assessment(self) -> None:
        p = self.p
        if p.attractiveness is None or p.position is None:
            return  # not assessed yet: the account stays unrated
        bounds = {"attractiveness": p.attractiveness, "position": p.position}
        for index, row in enumerate(self.plan.tables["assessment"]):
            rating = self.rng.randint(*bounds.get(str(row.get("axis")), (2, 4)))
            row["rating"] = rating
            if index < len(_EVIDENCE) and self.rng.random() < 0.85:
                high, middle, low = _EVIDENCE[index]
                row["comment"] = self.t(high if rating >= 4 else middle if rating == 3 else low)


# ---------------------------------------------------------------------------
# The portfolio
# ---------------------------------------------------------------------------
def _profiles(rng: random.Random, count: int) -> list[str]:
    profiles = [_CYCLE[i % len(_CYCLE)] for i in range(count)]
    rng.shuffle(profiles)
    return profiles


def _languages(rng: random.Random, count: int) -> list[str]:
    french = set(rng.sample(range(count), round(count / 3))) if count > 1 else set()
    return ["fr" if i in french else "en" for i in range(count)]


def _client_name(rng: random.Random, lang: str, sector: str, used: set[str], roots: list[str]) -> str:
    patterns = _NAME_PATTERNS[lang].get(sector, _NAME_PATTERNS[lang][""])
    for attempt in range(1000):
        if not roots or attempt > 50:
            roots.extend(rng.sample(_ROOTS[lang], len(_ROOTS[lang])))
        name = rng.choice(patterns).format(roots.pop())
        if name not in used:
            used.add(name)
            return name
    raise ValueError("too many demo accounts for the name generator")


def demo_portfolio(
    template: Template, *, seed: int = 7, count: int = 24, today: dt.date | None = None
) -> list[tuple[str, Plan]]:
    """The demo accounts with the profile each was drawn from: (profile, plan) pairs.

    Who the accounts are comes from the seed alone; each account then draws its content from a
    generator of its own, so the same seed gives the same accounts whatever the day.
    """
    today = today or dt.date.today()
    rng = random.Random(seed)
    profiles = _profiles(rng, count)
    languages = _languages(rng, count)
    sectors = list(template.choices["sector"])
    rng.shuffle(sectors)
    roots: dict[str, list[str]] = {lang: rng.sample(_ROOTS[lang], len(_ROOTS[lang])) for lang in _ROOTS}
    seen: dict[str, int] = {"en": 0, "fr": 0}
    used: set[str] = set()
    crm_ids = rng.sample(range(100_000, 1_000_000), count)
    fr_kams = 2 if count <= 30 else 4
    accounts = []
    for index, (profile, lang) in enumerate(zip(profiles, languages, strict=True)):
        sector = sectors[index % len(sectors)]
        kams = _KAMS[lang][: fr_kams if lang == "fr" else 4]
        if lang == "en" and seen[lang] % 5 == 4:
            kams = _KAMS["fr"][2:3]  # a bilingual KAM who also covers English-speaking accounts
        kam = kams[seen[lang] % len(kams)]
        seen[lang] += 1
        countries = _COUNTRIES[lang]
        country = rng.choices(countries, weights=[4, 3] + [1] * (len(countries) - 2))[0]
        account = _Account(
            template,
            random.Random(f"kamxl-demo/{seed}/{index}"),
            today,
            profile=profile,
            lang=lang,
            sector=sector,
            client=_client_name(rng, lang, sector, used, roots[lang]),
            kam=kam,
            country=country,
        )
        accounts.append((profile, account))
    result = []
    for index, (profile, account) in enumerate(accounts):
        plan = account.build()
        plan.fields["crm_id"] = f"ACC-{crm_ids[index]}"
        result.append((profile, plan))
    return result


def demo_plans(
    template: Template, *, seed: int = 7, count: int = 24, today: dt.date | None = None
) -> list[Plan]:
    """A realistic sample portfolio of filled account plans, the same for the same seed and day."""
    return [plan for _, plan in demo_portfolio(template, seed=seed, count=count, today=today)]
