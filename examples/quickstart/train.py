# Trains the quickstart's scikit-learn model on the iris data bundled with scikit-learn and pickles it to DIR/model.pkl.
import os
import pickle
import sys

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
iris = load_iris()  # ships inside the package: no download
model = LogisticRegression(max_iter=1000).fit(iris.data, iris.target)
with open(os.path.join(out, "model.pkl"), "wb") as f:
    pickle.dump(model, f)
print("trained LogisticRegression on %d iris rows -> %s" % (len(iris.data), os.path.join(out, "model.pkl")))
