/* corpus.h - the small article set the library suites index. */
#ifndef KB_TEST_CORPUS_H
#define KB_TEST_CORPUS_H

#include "testutil.h"

static const struct kb_test_doc corpus[] = {
	{ "battery.md",
	  "---\ntitle: Speaker won't hold a charge\nsymptoms: [wont-hold-charge]\n"
	  "---\n"
	  "## Replace the battery\n\n"
	  "Batteries wear out. When the speaker won't hold a charge, replace "
	  "the battery; it is routine after five years.\n\n"
	  "## Check the cable\n\n"
	  "Try another cable before opening anything.\n" },
	{ "sc2/led.md",
	  "---\ntitle: Soundcore 2 light meanings\nmodels: [Anker Soundcore 2]\n"
	  "---\n"
	  "## What the light means\n\n"
	  "- **Solid red**: the speaker is charging\n"
	  "- **Blinking red** — battery low\n"
	  "- **Solid white**: fully charged\n\n"
	  "## Clean the port\n\n"
	  "Switch it off and lift lint out of the micro-USB port with a "
	  "toothpick.\n" },
	{ "flip.txt",
	  "JBL Flip 5 keeps disconnecting\n\n"
	  "If the connection keeps dropping, start here.\n\n"
	  "Move the phone closer\n\n"
	  "Distance is the usual cause. Keep the phone within a few metres "
	  "of the speaker.\n\n"
	  "Restart both devices\n\n"
	  "Turn the speaker and the phone off and on again.\n" },
	{ "help/page.html",
	  "<html><head><title>Charging help</title>"
	  "<script>var battery = 1;</script></head><body>"
	  "<nav>Home | Battery | Cable</nav>"
	  "<h1>Speaker not charging</h1>"
	  "<h2>Try another adapter</h2><p>A faulty wall adapter is a common "
	  "cause when a speaker is not charging.</p>"
	  "<h2>Update the firmware</h2><p>Install the latest firmware from "
	  "the companion app.</p></body></html>" },
};

#define CORPUS_N (sizeof(corpus) / sizeof(corpus[0]))

#endif
