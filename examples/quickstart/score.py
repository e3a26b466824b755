# The quickstart's entry script: a tiny linear model (weights in model/weights.json) that scores rows of two numbers.
import json
import os

model = None


def init():
    global model
    # One mounted model: AZUREML_MODEL_DIR is the folder holding its files.
    path = os.environ.get("AZUREML_MODEL_DIR", os.path.join(os.path.dirname(__file__), "model"))
    with open(os.path.join(path, "weights.json")) as f:
        model = json.load(f)
    print("quickstart model loaded:", model)


def run(raw_data):
    rows = json.loads(raw_data)["data"]
    return {"predictions": [sum(w * x for w, x in zip(model["weights"], row)) + model["bias"] for row in rows]}
