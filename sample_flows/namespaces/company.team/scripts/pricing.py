"""A shared module kept as a namespace file: every flow of company.team can import it."""

VAT = {"uk": 0.20, "de": 0.19, "fr": 0.20}


def gross(net: float, country: str) -> float:
    return round(net * (1 + VAT[country]), 2)
