"""Strategic questions: long-horizon questions decomposed into drivers and indicator questions,
whose crowd forecasts (or outcomes) roll up into a composite (contracts.md, "Strategic
questions"). Sits beside scoring (layer 4): it reads questions and forecasts and listens to their
signals."""
