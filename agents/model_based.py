"""``mbrl``: an agent that learns a model of the world from its own data and plans with it.

The middle rung between model-free RL (``ppo``) and the physics planner (``planner``):
nothing about the world is written in, all of it is learned from the agent's own
transitions, yet it decides by planning on what it learned.

- **Model** (PETS, Chua et al. 2018, "Deep Reinforcement Learning in a Handful of
  Trials using Probabilistic Dynamics Models"): an ensemble of small MLPs, each giving
  a Gaussian (mean and bounded log-variance) over the normalised change of the
  observation over one *decision* (``action_repeat`` env steps holding one action),
  trained by Gaussian negative log-likelihood on its own bootstrap of the data; a
  second MLP predicts, from the observation, the action and the predicted change
  (learnt on that prediction too, as the planner feeds it, not on the real change),
  whether the episode ends there (a classifier, its rare positives up-weighted by
  their rarity, so that the ends weigh as much as the rest: the planner is wary of
  ends it cannot foresee) and the reward if it goes on and if it ends (so that a rare
  large end reward does not swamp the ordinary ones); the expected reward mixes the
  two by the probability of the end. Inputs and targets are normalised with the
  statistics of the data; nothing else is assumed of the observation.
- **Planner**: the cross-entropy method (Rubinstein 1999; as used by PETS) over
  sequences of discrete actions, drawn from one categorical distribution per step
  and refit to the elite sequences; every ensemble member rolls each sequence out
  from its mean prediction (PETS' trajectory sampling with one particle per member),
  and a sequence's value is the members' mean discounted return, each reward counted
  while the episode is predicted to go on, plus the value of the state reached at the
  horizon. The plan is kept and shifted from one decision to the next (as in MPPI,
  Williams et al. 2017).
- **Value beyond the horizon** (as TD-MPC, Hansen et al. 2022, and MBPO-style
  critics): two critics of the state fit by TD(0) on the real decisions against a
  Polyak-averaged target copy, the pessimistic minimum of the two used both in the
  target and at the horizon (clipped double Q-learning, Fujimoto et al. 2018).
- **Continual adaptation**: after every learning episode the model is refit on
  minibatches drawn from a replay buffer with recency weighting (half-life
  ``half_life`` decisions), so it follows a world that changes without being told.
  Evaluation (``deterministic=True``) neither learns nor touches the training random
  stream: its plans are drawn from a generator seeded by the agent's seed and the
  episode's first observation.

It sees observations, rewards, ends and nothing else; it never reads ``info``.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from exgen.agents.base import OnlineAgent, Transition

#: Standard deviations below this are taken as this (a constant input or target).
MIN_STD = 1e-3


class EnsembleMLP(nn.Module):
    """``members`` independent MLPs evaluated together: input ``(members, n, n_in)``."""

    def __init__(self, members: int, n_in: int, n_out: int, hidden: int, layers: int,
                 generator: torch.Generator) -> None:
        super().__init__()
        sizes = [n_in, *([hidden] * layers), n_out]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in itertools.pairwise(sizes):
            bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default range
            weight = (torch.rand(members, fan_in, fan_out, generator=generator) * 2 - 1) * bound
            bias = (torch.rand(members, 1, fan_out, generator=generator) * 2 - 1) * bound
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(bias, x, weight)
            if i < last:
                x = torch.relu(x)
        return x

    def numpy_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The weights as float32 arrays, for fast planning without autograd."""
        return [(w.detach().numpy().astype(np.float32), b.detach().numpy().astype(np.float32))
                for w, b in zip(self.weights, self.biases, strict=True)]


def numpy_forward(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """:meth:`EnsembleMLP.forward` in numpy: ``x`` of shape ``(members, n, n_in)``."""
    last = len(layers) - 1
    for i, (weight, bias) in enumerate(layers):
        x = np.matmul(x, weight) + bias
        if i < last:
            np.maximum(x, 0.0, out=x)
    return x


def _relu_then(layers: list[tuple[np.ndarray, np.ndarray]], hidden: np.ndarray
               ) -> np.ndarray:
    """``layers`` (:func:`numpy_forward`) on the ReLU of a first layer's ``hidden``."""
    np.maximum(hidden, 0.0, out=hidden)
    return numpy_forward(layers, hidden)


@dataclass(frozen=True)
class PlanningLayers:
    """The first layers of the networks as planning evaluates them, float32: the
    observation's normalisation folded into the weights on the raw observation, and
    the action's one-hot (with the bias) as one row per action; the dynamics' last
    layer cut to the mean change. The same functions as the networks, up to rounding."""

    dynamics_obs: np.ndarray  #: (members, obs_dim, hidden)
    dynamics_action: np.ndarray  #: (members, n_actions, hidden), bias included
    dynamics_mean: list[tuple[np.ndarray, np.ndarray]]  #: the layers after the first
    outcome_obs: np.ndarray  #: (obs_dim, hidden)
    outcome_delta: np.ndarray  #: (obs_dim, hidden), on the normalised change
    outcome_action: np.ndarray  #: (n_actions, hidden), bias included

    @classmethod
    def of(cls, dynamics: list[tuple[np.ndarray, np.ndarray]],
           outcome: list[tuple[np.ndarray, np.ndarray]], obs_scale: Scaler,
           obs_dim: int) -> PlanningLayers:
        """From the networks' layers (:meth:`EnsembleMLP.numpy_layers`), whose first
        layer takes ``[obs_scale(obs), one-hot action]`` (and then the normalised
        change, for ``outcome``), both with at least one hidden layer."""
        if len(dynamics) < 2 or len(outcome) < 2:
            raise ValueError("planning needs networks with at least one hidden layer")

        def fold(weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            inverse_std = (1.0 / obs_scale.std).astype(np.float32)
            on_obs = weight[:, :obs_dim] * inverse_std[:, None]
            shift = np.matmul(obs_scale.mean.astype(np.float32), on_obs)
            return np.ascontiguousarray(on_obs, np.float32), bias - shift[:, None, :]

        d_weight, d_bias = dynamics[0]
        d_obs, d_bias = fold(d_weight, d_bias)
        *middle, (last_weight, last_bias) = dynamics[1:]
        mean = (np.ascontiguousarray(last_weight[..., :obs_dim]),
                np.ascontiguousarray(last_bias[..., :obs_dim]))
        o_weight, o_bias = outcome[0]
        o_obs, o_bias = fold(o_weight, o_bias)
        n_actions = d_weight.shape[1] - obs_dim
        return cls(
            dynamics_obs=d_obs,
            dynamics_action=np.ascontiguousarray(d_weight[:, obs_dim:] + d_bias, np.float32),
            dynamics_mean=[*middle, mean], outcome_obs=o_obs[0],
            outcome_delta=np.ascontiguousarray(o_weight[0, obs_dim + n_actions:]),
            outcome_action=np.ascontiguousarray(
                o_weight[0, obs_dim:obs_dim + n_actions] + o_bias[0], np.float32))


@dataclass
class Scaler:
    """Affine normalisation by the data's mean and standard deviation."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def identity(cls, size: int) -> Scaler:
        return cls(np.zeros(size, np.float32), np.ones(size, np.float32))

    @classmethod
    def of(cls, data: np.ndarray) -> Scaler:
        return cls(data.mean(0).astype(np.float32),
                   np.maximum(data.std(0), MIN_STD).astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def inverse(self, x: np.ndarray) -> np.ndarray:
        return x * self.std + self.mean


class RecencyBuffer:
    """Decisions ``(observation, action, reward, next observation, ended)``, oldest
    dropped beyond ``capacity``, sampled with weight ``0.5 ** (age / half_life)``."""

    def __init__(self, obs_dim: int, capacity: int, half_life: float) -> None:
        self.capacity, self.half_life = capacity, half_life
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity, np.float32)
        self.ended = np.zeros(capacity, np.float32)
        self.size = 0
        self.head = 0  # where the next row goes

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
            ended: bool) -> None:
        i = self.head
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.ended[i] = next_obs, float(ended)
        self.head = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def cumulative_weights(self) -> np.ndarray:
        """The sampling distribution's CDF over rows ``0..size-1`` in storage order."""
        age = (self.head - 1 - np.arange(self.size)) % self.capacity
        weights = 0.5 ** (age / self.half_life)
        cdf = np.cumsum(weights)
        return cdf / cdf[-1]

    def sample(self, rng: np.random.Generator, cdf: np.ndarray, shape: tuple[int, ...]
               ) -> np.ndarray:
        """Row indices of the given shape, recency-weighted."""
        return np.minimum(np.searchsorted(cdf, rng.random(shape)), self.size - 1)


class Model(Protocol):
    """What the planner needs: ``members`` parallel models stepping states
    ``(members, n, obs_dim)`` under actions ``(n,)`` to next states, rewards and the
    probability that the episode ends, each ``(members, n)`` beside the states; with
    ``rng`` a model may draw its next states rather than give their mean."""

    members: int

    def step(self, states: np.ndarray, actions: np.ndarray,
             rng: np.random.Generator | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class WorldModel:
    """The learned model: a probabilistic dynamics ensemble and a reward/end network."""

    def __init__(self, obs_dim: int, n_actions: int, members: int = 5, hidden: int = 64,
                 layers: int = 2, learning_rate: float = 1e-3, seed: int = 0,
                 gamma: float = 0.98, critics: int = 2, tau: float = 0.01,
                 end_balance: float = 1.0, outcome_on_predicted: bool = True) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.obs_dim, self.n_actions, self.members = obs_dim, n_actions, members
        self.gamma, self.tau = gamma, tau
        # The ends' weight in the end classifier is their rarity to this power (0: as
        # they come, 0.5: its square root, 1: as many as the non-ends in all).
        self.end_balance = end_balance
        # Whether the reward/end network learns from the dynamics' predicted change
        # (what planning feeds it) or from the real one.
        self.outcome_on_predicted = outcome_on_predicted
        n_in = obs_dim + n_actions
        self.dynamics = EnsembleMLP(members, n_in, 2 * obs_dim, hidden, layers, generator)
        self.outcome = EnsembleMLP(1, n_in + obs_dim, 3, hidden, layers, generator)
        # PETS' learned bounds on the log-variance (in normalised units).
        self.max_logvar = nn.Parameter(torch.full((obs_dim,), 0.5))
        self.min_logvar = nn.Parameter(torch.full((obs_dim,), -10.0))
        # The value of a state beyond the planning horizon: an ensemble of critics fit
        # by TD(0) on the real decisions, against a slowly following target copy.
        self.value = EnsembleMLP(critics, obs_dim, 1, hidden, layers, generator)
        self.value_target = EnsembleMLP(critics, obs_dim, 1, hidden, layers, generator)
        self.value_target.load_state_dict(self.value.state_dict())
        self.value_unit = 0.0  # reward units per network unit, fixed at the first fit
        self.optimizer = torch.optim.Adam(
            [*self.dynamics.parameters(), *self.outcome.parameters(), self.max_logvar,
             self.min_logvar, *self.value.parameters()], lr=learning_rate)
        self.obs_scale = Scaler.identity(obs_dim)
        self.delta_scale = Scaler.identity(obs_dim)
        self.reward_scale = Scaler.identity(1)
        self.end_reward_scale = Scaler.identity(1)
        self.end_weight = 1.0
        self.fitted = False
        self._refresh()

    # ------------------------------------------------------------------ fitting
    def set_scales(self, obs: np.ndarray, next_obs: np.ndarray, rewards: np.ndarray,
                   ended: np.ndarray) -> None:
        """Normalise by the statistics of this data (the buffer); weigh the rare ends
        by their rarity (non-ends per end) to the power ``end_balance``."""
        self.obs_scale = Scaler.of(obs)
        self.delta_scale = Scaler.of(next_obs - obs)
        ends = ended > 0.5
        self.reward_scale = Scaler.of(rewards[~ends, None]) if (~ends).any() else \
            Scaler.identity(1)
        self.end_reward_scale = Scaler.of(rewards[ends, None]) if ends.any() else \
            Scaler.identity(1)
        rarity = (len(ended) - ends.sum()) / max(ends.sum(), 1)
        self.end_weight = float(rarity ** self.end_balance)

    def loss(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
             next_obs: np.ndarray, ended: np.ndarray) -> torch.Tensor:
        """Gaussian NLL of the ensemble plus the reward MSE and end cross-entropy; the
        arrays have a leading ``members`` axis (each member its own minibatch)."""
        x = torch.from_numpy(self._inputs(obs, actions))
        target = torch.from_numpy(self.delta_scale(next_obs - obs))
        mean, logvar = self._gaussian(self.dynamics(x))
        nll = (((mean - target) ** 2) * torch.exp(-logvar) + logvar).mean()
        bounds = 0.01 * (self.max_logvar.sum() - self.min_logvar.sum())
        # The outcome network sees the change the planner will give it: the members'
        # predicted mean (not the real change, whose impacts and bounces it could read
        # the end from, and which the planner never has).
        change = mean.detach() if self.outcome_on_predicted else target
        flat = x.reshape(1, -1, x.shape[-1])
        out = self.outcome(torch.cat([flat, change.reshape(1, -1, self.obs_dim)], -1))[0]
        flat_rewards = rewards.reshape(-1, 1)
        end = torch.from_numpy(ended.reshape(-1))
        going_on = torch.from_numpy(self.reward_scale(flat_rewards)[:, 0])
        at_end = torch.from_numpy(self.end_reward_scale(flat_rewards)[:, 0])
        reward_loss = ((1 - end) * (out[:, 0] - going_on) ** 2 +
                       end * (out[:, 1] - at_end) ** 2).mean()
        end_loss = nn.functional.binary_cross_entropy_with_logits(
            out[:, 2], end, pos_weight=torch.tensor(self.end_weight))
        return nll + bounds + reward_loss + end_loss + self._value_loss(
            obs, rewards, next_obs, ended)

    def _value_loss(self, obs: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
                    ended: np.ndarray) -> torch.Tensor:
        """TD(0) for the critics (each on the first of the members' minibatches):
        ``r + gamma * (1 - end) * V_target(s')``, the target the critics' minimum
        (pessimistic, as clipped double Q-learning, Fujimoto et al. 2018)."""
        critics = self.value.weights[0].shape[0]
        shape = (critics, *obs.shape[1:])
        s = torch.from_numpy(np.broadcast_to(self.obs_scale(obs[0]), shape).copy())
        s_next = torch.from_numpy(np.broadcast_to(self.obs_scale(next_obs[0]), shape).copy())
        with torch.no_grad():
            bootstrap = self.value_target(s_next)[..., 0].min(0).values
            target = (torch.from_numpy(rewards[0]) / (self.value_unit or 1.0) +
                      self.gamma * (1 - torch.from_numpy(ended[0])) * bootstrap)
        return nn.functional.smooth_l1_loss(self.value(s)[..., 0],
                                            target.expand(critics, -1))

    def train_steps(self, buffer: RecencyBuffer, steps: int, batch_size: int,
                    rng: np.random.Generator) -> float:
        """``steps`` Adam steps on recency-weighted minibatches; the last loss."""
        self.set_scales(buffer.obs[:buffer.size], buffer.next_obs[:buffer.size],
                        buffer.rewards[:buffer.size], buffer.ended[:buffer.size])
        if self.value_unit == 0.0:  # fixed once, so the critics' scale stays put
            self.value_unit = float(max(self.reward_scale.std[0], 1e-3) / (1 - self.gamma))
        cdf = buffer.cumulative_weights()
        value = math.nan
        for _ in range(steps):
            rows = buffer.sample(rng, cdf, (self.members, batch_size))
            loss = self.loss(buffer.obs[rows], buffer.actions[rows], buffer.rewards[rows],
                             buffer.next_obs[rows], buffer.ended[rows])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            with torch.no_grad():
                for target, source in zip(self.value_target.parameters(),
                                          self.value.parameters(), strict=True):
                    target.lerp_(source, self.tau)
            value = float(loss.detach())
        self.fitted = True
        self._refresh()
        return value

    def predict_delta(self, obs: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Each member's mean change of the observation, ``(members, n, obs_dim)``."""
        with torch.no_grad():
            x = torch.from_numpy(self._inputs(np.broadcast_to(obs, (self.members, *obs.shape)),
                                              np.broadcast_to(actions,
                                                              (self.members, *actions.shape))))
            mean, _ = self._gaussian(self.dynamics(x))
        return self.delta_scale.inverse(mean.numpy())

    # ----------------------------------------------------------------- planning
    def step(self, states: np.ndarray, actions: np.ndarray,
             rng: np.random.Generator | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One decision for every member and state (the :class:`Model` protocol): each
        member's mean change or, with ``rng``, a change drawn from its Gaussian (PETS'
        trajectory sampling, one particle per member). Runs the networks as
        :class:`PlanningLayers` hold them."""
        plan, d = self._planning, self.obs_dim
        hidden = np.matmul(states, plan.dynamics_obs) + plan.dynamics_action[:, actions]
        if rng is None:
            delta = _relu_then(plan.dynamics_mean, hidden)
        else:
            out = _relu_then(self._dynamics_np[1:], hidden)
            std = np.exp(0.5 * self._bounded_logvar_np(out[..., d:]))
            delta = out[..., :d] + std * rng.standard_normal(out[..., :d].shape,
                                                             dtype=np.float32)
        hidden = (np.matmul(states, plan.outcome_obs) + np.matmul(delta, plan.outcome_delta)
                  + plan.outcome_action[actions])
        out = _relu_then(self._outcome_np[1:], hidden)
        going_on = self.reward_scale.inverse(out[..., :1])[..., 0]
        at_end = self.end_reward_scale.inverse(out[..., 1:2])[..., 0]
        end = 1.0 / (1.0 + np.exp(-np.clip(out[..., 2], -30, 30)))
        reward = (1.0 - end) * going_on + end * at_end
        return states + self.delta_scale.inverse(delta), reward, end

    def state_value(self, states: np.ndarray) -> np.ndarray:
        """The critics' least value of states ``(members, n, obs_dim)``: ``(members, n)``
        (pessimism where the planner drives the model to states the data never saw)."""
        if self.value_unit == 0.0:
            return np.zeros(states.shape[:-1], np.float32)
        members, n, _ = states.shape
        x = self.obs_scale(states).astype(np.float32).reshape(1, members * n, -1)
        critics = self._value_np[0][0].shape[0]
        v = numpy_forward(self._value_np, np.broadcast_to(x, (critics, *x.shape[1:])))
        return (self.value_unit * v[..., 0].min(0)).reshape(members, n)

    # ---------------------------------------------------------------- internals
    def _inputs(self, obs: np.ndarray, actions: np.ndarray) -> np.ndarray:
        onehot = np.eye(self.n_actions, dtype=np.float32)[actions]
        return np.concatenate([self.obs_scale(obs).astype(np.float32), onehot], -1)

    def _gaussian(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = out[..., :self.obs_dim], out[..., self.obs_dim:]
        logvar = self.max_logvar - nn.functional.softplus(self.max_logvar - logvar)
        logvar = self.min_logvar + nn.functional.softplus(logvar - self.min_logvar)
        return mean, logvar

    def _bounded_logvar_np(self, logvar: np.ndarray) -> np.ndarray:
        """:meth:`_gaussian`'s soft bounds on the log-variance, in numpy."""
        logvar = self._max_logvar_np - np.logaddexp(0.0, self._max_logvar_np - logvar)
        return self._min_logvar_np + np.logaddexp(0.0, logvar - self._min_logvar_np)

    def _refresh(self) -> None:
        self._max_logvar_np = self.max_logvar.detach().numpy().astype(np.float32)
        self._min_logvar_np = self.min_logvar.detach().numpy().astype(np.float32)
        self._dynamics_np = self.dynamics.numpy_layers()
        self._outcome_np = self.outcome.numpy_layers()
        self._value_np = self.value.numpy_layers()
        self._planning = PlanningLayers.of(self._dynamics_np, self._outcome_np,
                                           self.obs_scale, self.obs_dim)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, rebuilding the planning layers (a model saved before they existed)."""
        self.__dict__.update(state)
        self._refresh()


@dataclass
class CEMPlanner:
    """The cross-entropy method over sequences of discrete actions.

    ``horizon`` decisions, ``population`` sequences per iteration, the best
    ``elites`` refit the per-step categorical distributions (``smoothing`` of the old
    ones kept), ``iterations`` rounds; ``explore`` of a uniform distribution is mixed
    into the shifted plan before the first round; ``discount`` per decision;
    ``trajectory_sampling``: roll the model out by drawing its next states (PETS'
    trajectory sampling) rather than by their means.
    """

    n_actions: int
    horizon: int = 12
    population: int = 100
    elites: int = 10
    iterations: int = 3
    smoothing: float = 0.1
    explore: float = 0.2
    discount: float = 1.0
    trajectory_sampling: bool = False

    def plan(self, model: Model, state: np.ndarray, rng: np.random.Generator,
             previous: np.ndarray | None = None) -> np.ndarray:
        """The best sequence found, ``(horizon,)`` actions; ``previous`` (the last
        plan, shifted) seeds the distributions and is itself a candidate."""
        uniform = np.full((self.horizon, self.n_actions), 1.0 / self.n_actions)
        probs = uniform.copy()
        if previous is not None:
            probs = self.explore * uniform + (1 - self.explore) * np.eye(
                self.n_actions)[previous]
        best, best_value = previous, -np.inf
        draws = rng if self.trajectory_sampling else None  # the model's own randomness
        for _ in range(self.iterations):
            sequences = self.sample(probs, rng)
            if best is not None:
                sequences[0] = best
            values = self.evaluate(model, state, sequences, draws)
            order = np.argsort(-values, kind="stable")
            if values[order[0]] > best_value:
                best, best_value = sequences[order[0]].copy(), values[order[0]]
            counts = np.eye(self.n_actions)[sequences[order[:self.elites]]].mean(0)
            probs = self.smoothing * probs + (1 - self.smoothing) * counts
        return best

    def sample(self, probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``population`` sequences, step ``t`` drawn from ``probs[t]``."""
        cdf = np.cumsum(probs, axis=1)
        u = rng.random((self.population, self.horizon, 1))
        return np.minimum((u > cdf[None]).sum(-1), self.n_actions - 1)

    def evaluate(self, model: Model, state: np.ndarray, sequences: np.ndarray,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        """Each sequence's return, averaged over the model's members, a reward
        counting only while the episode is predicted to go on; ``rng`` is passed to
        the model (to draw its next states)."""
        n = len(sequences)
        states = np.broadcast_to(np.asarray(state, np.float32),
                                 (model.members, n, len(state))).copy()
        total = np.zeros((model.members, n), np.float32)
        alive = np.ones((model.members, n), np.float32)
        weight = 1.0
        for t in range(sequences.shape[1]):
            states, reward, end = model.step(states, sequences[:, t], rng)
            total += weight * alive * reward
            alive *= 1.0 - end
            weight *= self.discount
        state_value = getattr(model, "state_value", None)
        if state_value is not None:  # what lies beyond the horizon
            total += weight * alive * state_value(states)
        return total.mean(0)


class ModelBasedAgent(OnlineAgent):
    """Learn a model of the world from its own data (PETS) and plan on it (CEM).

    Hyperparameters: ``action_repeat`` env steps per decision; the planner's
    ``horizon`` (decisions), ``population``, ``elites``, ``iterations``; the model's
    ``members``, ``hidden``, ``layers``, ``learning_rate``; ``train_steps`` Adam steps
    of ``batch_size`` per member after each learning episode; the buffer's
    ``capacity`` and ``half_life`` (decisions); ``random_episodes`` of random actions
    before the first fit; ``gamma``, the discount per decision of the planner and the
    critics; ``sample_rollouts``, whether the planner draws the model's next states
    (PETS' trajectory sampling) instead of taking their means; ``end_balance``, the
    power of the ends' rarity that weighs them in the end classifier;
    ``outcome_on_predicted``, whether the reward/end network learns on the dynamics'
    predicted change (as planning uses it) rather than the real one.
    """

    name = "mbrl"

    def __init__(self, env: gym.Env, seed: int | None = None, *, action_repeat: int = 3,
                 horizon: int = 12, population: int = 100, elites: int = 10,
                 iterations: int = 3, members: int = 5, hidden: int = 64, layers: int = 2,
                 learning_rate: float = 1e-3, train_steps: int = 400, batch_size: int = 128,
                 capacity: int = 100_000, half_life: float = 20_000,
                 random_episodes: int = 5, gamma: float = 0.98,
                 sample_rollouts: bool = False, end_balance: float = 1.0,
                 outcome_on_predicted: bool = True) -> None:
        super().__init__(env, seed)
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(f"mbrl plans over discrete actions; got {env.action_space}")
        obs_dim = int(np.prod(env.observation_space.shape))
        n_actions = int(env.action_space.n)
        self.action_repeat = action_repeat
        self.train_steps, self.batch_size = train_steps, batch_size
        self.random_episodes = random_episodes
        self.model = WorldModel(obs_dim, n_actions, members, hidden, layers, learning_rate,
                                seed=0 if seed is None else seed, gamma=gamma,
                                end_balance=end_balance,
                                outcome_on_predicted=outcome_on_predicted)
        self.planner = CEMPlanner(n_actions, horizon, population, elites, iterations,
                                  discount=gamma, trajectory_sampling=sample_rollouts)
        self.buffer = RecencyBuffer(obs_dim, capacity, half_life)
        self.episodes = 0
        self.last_loss = math.nan
        self._plan: np.ndarray | None = None
        self._action = 0
        self._step = 0
        self._plan_rng = self.rng
        self._pending: list[Any] | None = None  # [obs, action, reward, steps]
        #: Whether the last predict() planned (for the benchmark's per-replan times).
        self.replanned = False

    # ----------------------------------------------------------------- agent API
    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        if episode_start is not None and np.any(episode_start):
            self._start_episode(observation, deterministic)
        self.replanned = self._step % self.action_repeat == 0
        if self.replanned:
            self._action = self._decide(np.asarray(observation, np.float32), deterministic)
        self._step += 1
        return self._action, state

    def observe(self, transition: Transition) -> None:
        """Gather ``action_repeat`` steps into one decision for the buffer."""
        if self._pending is None:
            self._pending = [np.asarray(transition.observation, np.float32),
                             int(transition.action), 0.0, 0]
        self._pending[2] += transition.reward
        self._pending[3] += 1
        if transition.terminated or self._pending[3] == self.action_repeat:
            obs, action, reward, _ = self._pending
            self.buffer.add(obs, action, reward, transition.next_observation,
                            transition.terminated)
            self._pending = None
        elif transition.truncated:  # a cut-short decision would misteach the model
            self._pending = None

    def end_episode(self, record: Any) -> None:
        """Refit the model on the recency-weighted buffer."""
        self.episodes += 1
        self._pending = None
        if self.episodes >= self.random_episodes and self.buffer.size > 0:
            self.last_loss = self.model.train_steps(self.buffer, self.train_steps,
                                                    self.batch_size, self.rng)

    # ---------------------------------------------------------------- internals
    def _start_episode(self, observation: np.ndarray, deterministic: bool) -> None:
        self._plan, self._step, self._pending = None, 0, None
        if deterministic:  # evaluation: its own stream, the training one untouched
            words = np.frombuffer(np.asarray(observation, np.float32).tobytes(), np.uint32)
            self._plan_rng = np.random.default_rng([self.seed or 0, *words.tolist()])
        else:
            self._plan_rng = self.rng

    def _decide(self, observation: np.ndarray, deterministic: bool) -> int:
        if not self.model.fitted:
            return int(self._plan_rng.integers(self.planner.n_actions))
        previous = None if self._plan is None else np.append(self._plan[1:], self._plan[-1])
        self._plan = self.planner.plan(self.model, observation, self._plan_rng, previous)
        return int(self._plan[0])


def benchmark(env_id: str = "LunarLanding-v0", episodes: int = 3, warmup_episodes: int = 5,
              seed: int = 10_000, **hyperparameters: Any) -> dict[str, Any]:
    """Decision times of ``mbrl``: ``warmup_episodes`` learning episodes fit a model, then
    ``episodes`` without learning are timed per step and per replan [ms]."""
    from exgen.agents.episodes import run_episodes
    from exgen.agents.public_view import as_public
    from exgen.envs.mixture import make_env

    torch.set_num_threads(1)
    env = make_env(env_id)
    agent = ModelBasedAgent(as_public(env), seed=seed,
                            **{"random_episodes": warmup_episodes, **hyperparameters})
    run_episodes(agent, env, warmup_episodes, seed=seed, learn=True)
    steps, replans = [], []
    predict = agent.predict

    def timed(*arguments: Any, **keywords: Any) -> tuple[Any, Any]:
        begin = time.perf_counter()
        result = predict(*arguments, **keywords)
        milliseconds = 1e3 * (time.perf_counter() - begin)
        steps.append(milliseconds)
        if agent.replanned:
            replans.append(milliseconds)
        return result

    agent.predict = timed  # type: ignore[method-assign]
    begin = time.perf_counter()
    records = run_episodes(agent, env, episodes, seed=seed + warmup_episodes)
    wall = time.perf_counter() - begin
    return {
        "episodes": episodes, "steps": len(steps), "replans": len(replans),
        "step_ms_median": statistics.median(steps), "step_ms_max": max(steps),
        "replan_ms_median": statistics.median(replans), "replan_ms_max": max(replans),
        "episodes_per_s": episodes / wall,
        "successes": sum(r.is_success for r in records),
    }
