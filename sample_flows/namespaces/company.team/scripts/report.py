import json
import sys

from scripts.pricing import gross

orders = json.load(open(sys.argv[1]))
total = sum(gross(o["net"], o["country"]) for o in orders)
print(f"{len(orders)} orders, gross total {total:.2f}")
print("::" + json.dumps({"outputs": {"orders": len(orders), "gross_total": round(total, 2)}}) + "::")
