"""rl-zoo3 config: sac hyperparameters from agents/hyperparams/sac.toml."""

from exgen.agents.zoo import zoo_hyperparameters

hyperparams = zoo_hyperparameters("sac")
