from bot.standin import *  # noqa: F403  (the stand-in lives in bot/ so `coregroup demo` can use it)
