"""``digitnet.Network``: the reference network (network.py) with what a program using it
needs around it: training as fast as ``digitnet train`` (``fit``), files (``save``,
``load``) and real images (``predict_image``)."""

from . import modelfile, network
from .training import train


class Network(network.Network):
    """A network of layers a' = σ(W a + b): ``Network()`` is the videos' 784-16-16-10 with
    sigmoid neurons and the quadratic cost; see network.Network for the mathematics."""

    def fit(self, X, y, **options):
        """Learn from images X (n×784 or n×28×28; uint8 pixels or floats in [0, 1]) and
        labels y by stochastic gradient descent; options as for ``training.Trainer``
        (optimizer, lr, momentum, l2, batch_size, epochs, schedule, shift, augment, validation, seed,
        teacher, and not_a_digit: images of noise to learn a "not a digit" output from)."""
        train(self, X, y, **options)
        return self

    def predict_image(self, image, **options):
        """The digit in a real image (a path, a PIL image or an array), after turning it into
        MNIST form with ``images.to_mnist`` (options: ``invert``)."""
        from .images import to_mnist  # SciPy's image filters: a third of a second to load, for this alone

        return int(self.predict(to_mnist(image, **options).reshape(1, -1))[0])

    def save(self, path, **record):
        """Write the network to ``path`` (.npz: arrays and a JSON header, no pickle), atomically;
        ``record`` (recipe, test accuracy, ...) goes into the header."""
        modelfile.save(self, path, **record)

    @classmethod
    def load(cls, path):
        """The network saved in ``path``, checked; its header is in ``net.header``."""
        return modelfile.load(path, cls)
