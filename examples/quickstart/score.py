# The quickstart's entry script: classifies iris flowers with the mounted model, a scikit-learn pickle or a pure-Python nearest-centroid table.
import json
import os
import pickle

CLASSES = ["setosa", "versicolor", "virginica"]
model = None


def init():
    global model
    # One mounted model: AZUREML_MODEL_DIR holds its files (a registered folder keeps its own name).
    root = os.environ.get("AZUREML_MODEL_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "model"))
    for folder, _, files in os.walk(root):
        if "model.pkl" in files:
            with open(os.path.join(folder, "model.pkl"), "rb") as f:
                model = pickle.load(f)
            print("quickstart: loaded the scikit-learn model from", folder)
            return
        if "centroids.json" in files:
            with open(os.path.join(folder, "centroids.json")) as f:
                model = json.load(f)
            print("quickstart: loaded the nearest-centroid model from", folder)
            return
    raise FileNotFoundError("no model.pkl or centroids.json under %s" % root)


def nearest(row):
    distances = [sum((a - b) ** 2 for a, b in zip(row, c)) for c in model["centroids"]]
    return distances.index(min(distances))


def run(raw_data):
    rows = json.loads(raw_data)["data"]
    classes = model.predict(rows).tolist() if hasattr(model, "predict") else [nearest(r) for r in rows]
    return {"predictions": [CLASSES[int(c)] for c in classes]}
