"""The places of the Colombia–Darién–Panama–Costa Rica–Central America–Mexico corridor, how
people travel between them, and the Darién figures that scale the size of groups."""

import random
from dataclasses import dataclass

from cases.models import Entity, Movement

Means = Movement.Means


@dataclass(frozen=True)
class Place:
    name: str
    country: str
    kind: str  # Entity.LocationKind
    latitude: float
    longitude: float


LK = Entity.LocationKind
# Approximate coordinates (3 decimals) of the places of the route. ERM: Estación de Recepción
# Migratoria, Panama's reception stations for migrants leaving the Darién.
PLACES: dict[str, Place] = {
    "medellin": Place("Medellín", "CO", LK.CITY, 6.244, -75.581),
    "rionegro": Place("Aeropuerto José María Córdova, Rionegro", "CO", LK.AIRPORT, 6.167, -75.427),
    "turbo": Place("Turbo", "CO", LK.PORT, 8.093, -76.728),
    "necocli": Place("Necoclí", "CO", LK.PORT, 8.426, -76.784),
    "acandi": Place("Acandí", "CO", LK.CITY, 8.512, -77.279),
    "capurgana": Place("Capurganá", "CO", LK.PORT, 8.633, -77.350),
    "sapzurro": Place("Sapzurro", "CO", LK.PORT, 8.659, -77.362),
    "puerto_obaldia": Place("Puerto Obaldía", "PA", LK.PORT, 8.667, -77.418),
    "canaan_membrillo": Place("Canaán Membrillo", "PA", LK.CAMP, 7.998, -77.541),
    "bajo_chiquito": Place("Bajo Chiquito", "PA", LK.CAMP, 8.118, -77.558),
    "lajas_blancas": Place("ERM Lajas Blancas", "PA", LK.CAMP, 8.297, -77.806),
    "san_vicente": Place("ERM San Vicente, Metetí", "PA", LK.CAMP, 8.478, -77.958),
    "meteti": Place("Metetí", "PA", LK.CITY, 8.497, -77.975),
    "panama_city": Place("Ciudad de Panamá", "PA", LK.CITY, 8.983, -79.520),
    "tocumen": Place("Aeropuerto Internacional de Tocumen", "PA", LK.AIRPORT, 9.071, -79.383),
    "miramar": Place("Miramar, Colón", "PA", LK.PORT, 9.565, -79.341),
    "david": Place("David", "PA", LK.CITY, 8.427, -82.431),
    "los_planes": Place("ERM Los Planes, Gualaca", "PA", LK.CAMP, 8.540, -82.295),
    "paso_canoas": Place("Paso Canoas", "PA", LK.BORDER_CROSSING, 8.534, -82.839),
    "ciudad_neily": Place("Ciudad Neily", "CR", LK.CITY, 8.654, -82.941),
    "neily_house": Place("Casa de seguridad, Ciudad Neily", "CR", LK.SAFE_HOUSE, 8.648, -82.935),
    "san_jose": Place("San José", "CR", LK.CITY, 9.928, -84.091),
    "juan_santamaria": Place("Aeropuerto Juan Santamaría", "CR", LK.AIRPORT, 9.994, -84.209),
    "limon": Place("Puerto Limón", "CR", LK.PORT, 9.991, -83.033),
    "pital": Place("Pital, San Carlos", "CR", LK.CITY, 10.451, -84.274),
    "los_chiles": Place("Los Chiles", "CR", LK.BORDER_CROSSING, 11.034, -84.714),
    "penas_blancas": Place("Peñas Blancas", "CR", LK.BORDER_CROSSING, 11.215, -85.612),
    "san_carlos_ni": Place("San Carlos, Río San Juan", "NI", LK.PORT, 11.123, -84.778),
    "managua": Place("Managua", "NI", LK.CITY, 12.136, -86.251),
    "trojes": Place("Trojes", "HN", LK.BORDER_CROSSING, 14.063, -85.987),
    "danli": Place("Danlí", "HN", LK.CITY, 14.031, -86.574),
    "tegucigalpa": Place("Tegucigalpa", "HN", LK.CITY, 14.072, -87.192),
    "san_pedro_sula": Place("San Pedro Sula", "HN", LK.CITY, 15.505, -88.025),
    "agua_caliente": Place("Agua Caliente", "HN", LK.BORDER_CROSSING, 14.440, -89.188),
    "guatemala_city": Place("Ciudad de Guatemala", "GT", LK.CITY, 14.634, -90.507),
    "tecun_uman": Place("Tecún Umán", "GT", LK.BORDER_CROSSING, 14.678, -92.142),
    "ciudad_hidalgo": Place("Ciudad Hidalgo", "MX", LK.BORDER_CROSSING, 14.679, -92.150),
    "tapachula": Place("Tapachula", "MX", LK.CITY, 14.906, -92.263),
    "tuxtla": Place("Tuxtla Gutiérrez", "MX", LK.CITY, 16.753, -93.116),
    "cdmx": Place("Ciudad de México", "MX", LK.CITY, 19.433, -99.133),
    "reynosa": Place("Reynosa", "MX", LK.CITY, 26.092, -98.278),
}  # fmt: skip

# The main northbound corridor, in travel order; synthetic cases take a stretch of it.
CORRIDOR = (
    "necocli", "capurgana", "bajo_chiquito", "lajas_blancas", "los_planes", "paso_canoas",
    "san_jose", "penas_blancas", "managua", "trojes", "tegucigalpa", "agua_caliente",
    "guatemala_city", "tecun_uman", "tapachula", "cdmx", "reynosa",
)  # fmt: skip
# How people travel on a leg; by bus unless listed.
LEG_MEANS: dict[tuple[str, str], str] = {
    ("necocli", "capurgana"): Means.BOAT,
    ("necocli", "acandi"): Means.BOAT,
    ("turbo", "capurgana"): Means.BOAT,
    ("capurgana", "bajo_chiquito"): Means.FOOT,
    ("acandi", "bajo_chiquito"): Means.FOOT,
    ("capurgana", "canaan_membrillo"): Means.FOOT,
    ("canaan_membrillo", "bajo_chiquito"): Means.FOOT,
    ("sapzurro", "puerto_obaldia"): Means.BOAT,
    ("puerto_obaldia", "panama_city"): Means.PLANE,
    ("bajo_chiquito", "lajas_blancas"): Means.BOAT,
    ("meteti", "panama_city"): Means.CAR,
    ("miramar", "necocli"): Means.BOAT,
    ("paso_canoas", "san_jose"): Means.CAR,
    ("paso_canoas", "ciudad_neily"): Means.FOOT,
    ("paso_canoas", "neily_house"): Means.CAR,
    ("los_chiles", "san_carlos_ni"): Means.BOAT,
    ("los_chiles", "pital"): Means.TRUCK,
    ("rionegro", "juan_santamaria"): Means.PLANE,
    ("rionegro", "tocumen"): Means.PLANE,
    ("juan_santamaria", "san_jose"): Means.CAR,
    ("tecun_uman", "ciudad_hidalgo"): Means.BOAT,
    ("tecun_uman", "tapachula"): Means.BOAT,
    ("tapachula", "tuxtla"): Means.TRUCK,
}

# Yearly irregular crossings of the Darién recorded by Panama (facts: Panama SNM / Ministry of
# Public Security figures as reported in the press; ../shared/data/SOURCES.md, file
# migration/darien_crossings_published.csv). They scale the group sizes of movements.
DARIEN_CROSSINGS = {
    2015: 29_289, 2016: 30_055, 2017: 6_780, 2018: 9_222, 2019: 22_102,
    2020: 6_465, 2021: 133_726, 2022: 248_284, 2023: 520_085, 2024: 302_203,
}  # fmt: skip


def group_size(rng: random.Random, year: int) -> int:
    """People in one smuggled group: a small share of a day's Darién crossings that year."""
    known = max(y for y in DARIEN_CROSSINGS if y <= max(year, min(DARIEN_CROSSINGS)))
    per_day = DARIEN_CROSSINGS[known] / 365
    return max(3, min(180, round(per_day * rng.uniform(0.01, 0.08))))
