"""Recipes: named sets of training options, chosen with ``digitnet train --recipe`` (and
by the web page and the scikit-learn estimator). Options given alongside a recipe
override it."""

RECIPES = {
    # The same 13,002 parameters as the videos' network, trained the modern way to pass 96 %.
    "default": dict(activation="relu", cost="cross-entropy", optimizer="adam", lr=0.005,
                    momentum=0.9, l2=0.0, batch_size=128, epochs=25, schedule="cosine", shift=1),
    # The videos' network exactly (and Nielsen's book, chapter 1).
    "video": dict(activation="sigmoid", cost="quadratic", optimizer="sgd", lr=3.0,
                  momentum=0.0, l2=0.0, batch_size=10, epochs=30, schedule="constant", shift=0),
}

# The options of a recipe that the training loop takes (the others choose the network).
TRAINING_OPTIONS = ("optimizer", "lr", "momentum", "l2", "batch_size", "epochs", "schedule", "shift")
