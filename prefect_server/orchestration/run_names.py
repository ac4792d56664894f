"""Random two-word flow-run names (Server 1 used the ``coolname`` package)."""

from __future__ import annotations

import random

ADJECTIVES = (
    "able agile amber ancient arctic artful azure bold brave breezy bright brisk calm candid "
    "cheerful clever cosmic crimson curious daring dazzling eager earnest electric elegant "
    "emerald epic fancy fearless festive fiery flashy fluffy friendly funky gallant gentle "
    "gigantic glorious golden graceful grand happy hardy heavenly honest humble icy illustrious "
    "imaginary jolly jovial keen kind lavender lively lucky lunar magnetic majestic mellow "
    "merry mighty modest mysterious nimble noble olive optimistic orange patient peaceful "
    "perky placid playful polished proud purple quick quiet radiant rapid resilient robust "
    "rose ruby rustic sapphire scarlet serene shiny silver sleek smart snappy solar sparkling "
    "spirited spry steady stellar stoic sturdy sunny swift tactful teal tidy tireless tranquil "
    "true turquoise upbeat valiant vibrant vigilant violet vivid warm whimsical wise witty "
    "zealous zesty"
).split()

ANIMALS = (
    "aardvark albatross alligator alpaca anteater antelope armadillo badger barracuda bat "
    "beaver bison bobcat buffalo butterfly camel capybara caribou cassowary cat chameleon "
    "cheetah chinchilla cobra cougar coyote crab crane cricket crocodile crow deer dingo "
    "dolphin donkey dove dragonfly duck eagle eel elephant elk emu falcon ferret finch "
    "flamingo fox frog gazelle gecko gerbil gibbon giraffe goose gopher gorilla grasshopper "
    "grouse hamster hare hawk hedgehog heron hippo hornet horse hound hummingbird hyena ibex "
    "ibis iguana impala jackal jaguar jellyfish kangaroo kestrel kingfisher kiwi koala lemur "
    "leopard lion lizard llama lobster lynx macaw magpie manatee marmot meerkat mink mole "
    "mongoose moose narwhal newt ocelot octopus okapi orca oriole osprey ostrich otter owl "
    "panda panther parrot peacock pelican penguin pheasant porcupine puffin puma python quail "
    "rabbit raccoon raven reindeer rhino robin salamander seal shark sheep skunk sloth snail "
    "sparrow spider squid squirrel starling stingray stork swan tapir tiger toad toucan "
    "turtle viper vulture walrus weasel whale wolf wombat woodpecker yak zebra"
).split()


def random_name() -> str:
    """An ``adjective-animal`` slug, as Server 1 gave runs created without a name."""
    return f"{random.choice(ADJECTIVES)}-{random.choice(ANIMALS)}"
