#!/usr/bin/env python3
"""Write the hand-edited variants of base.json used by the diff tests (see README.md)."""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
base = json.load(open(os.path.join(HERE, "base.json")))


def save(name, card):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(card, f, indent=2, ensure_ascii=False)
        f.write("\n")


def declared(value):
    return {"state": "value", "value": value, "provenance": "declared",
            "evidence": "edited by hand for the diff example"}


c = copy.deepcopy(base)
c["release"]["name"] = declared("gsm8k-solutions-rlvr-example (PPO run)")
c["factors"]["optimizer"] = declared("PPO (verl 0.4.1, lr 1e-6, kl 0.001, critic Qwen2.5-Math-7B)")
save("one_factor_optimizer.json", c)

c = copy.deepcopy(base)
c["release"]["name"] = declared("gsm8k-solutions-rlvr-example (Llama, math 1.1)")
c["factors"]["base_model"] = declared("Llama-3.1-8B-Instruct")
c["factors"]["verifier"]["value"][0]["version"] = "1.1.0"
save("several_base_model_verifier.json", c)

c = copy.deepcopy(base)
c["release"]["name"] = declared("gsm8k-solutions-rlvr-example (undisclosed recipe)")
c["factors"]["optimizer"] = {"state": "unknown", "provenance": "unknown"}
c["factors"]["scaffold"] = {"state": "unknown", "provenance": "unknown"}
c["factors"]["base_model"] = declared("Qwen2.5-7B")
save("undisclosed_optimizer_scaffold.json", c)

c = copy.deepcopy(base)
c["release"]["name"] = declared("gsm8k-solutions-rlvr-example (decontaminated)")
d = c["quality"]["decontamination"]
d["value"]["removed"] = 30
d["value"]["params"]["mode"] = "drop"
save("data_only_decontamination.json", c)
