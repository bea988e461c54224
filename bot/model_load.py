"""Rasa 3.6's `RasaModel.load` trains each TensorFlow model (DIET, the ResponseSelector, TED) on one example before it
restores the trained weights, only to create the variables, and keeps what that training made: the optimizer's
slots and a traced training step. Profiled (`make load-profile`, bench/results/load_profile.md), that was most of
the Rasa server's start (DIET alone 55.7 CPU-s and +584 MB) and most of its memory above a bare Rasa bot.

`install()` makes the variables by one eager (untraced) inference instead, restores the trained weights into them,
then lets the model compute its label embeddings again from those weights and trace its prediction once. Same
weights, same predictions: tests/test_model_load.py loads the trained model both ways and compares what they
predict. Fine-tuning (`rasa train --finetune`) and loads without a prediction example keep Rasa's own load. The Rasa
server and `make shell` import this through bot/conversation_store.py (endpoints.yml's tracker store) before they
load the model; `rasa test` and `rasa train` keep Rasa's load.
"""
from __future__ import annotations

from typing import Any

import tensorflow as tf
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

_RASA_LOAD = RasaModel.load.__func__


def _load_for_prediction(
    cls: type[RasaModel], model_file_name: str, model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None = None, finetune_mode: bool = False, *args: Any, **kwargs: Any,
) -> RasaModel:
    """RasaModel.load without its one-example training (same arguments, same model)."""
    if finetune_mode or not predict_data_example:
        return _RASA_LOAD(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                          *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    # One eager inference creates every variable prediction uses; eager, so that the prediction is traced only once,
    # below, from the trained weights (a trace costs seconds of CPU: DIET's and TED's were most of the start).
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get("learning_rate", 0.001)), run_eagerly=True)
    model.run_inference(predict_data_example)
    status = model.load_weights(model_file_name)
    if status is not None:
        status.expect_partial()  # the optimizer's slots were saved by training and are not needed to predict
    # The label embeddings were computed from the untrained variables: again, from the weights, and traced.
    model.run_eagerly = config.get("run_eagerly")
    model.prepared_for_prediction = False
    model._tf_predict_step = None
    model.run_inference(predict_data_example)
    return model


def install() -> None:
    RasaModel.load = classmethod(_load_for_prediction)


def uninstall() -> None:
    """Rasa's own load again (tests compare the two)."""
    RasaModel.load = classmethod(_RASA_LOAD)
