"""The facts every few-shot prompt draws its worked examples from.

A base model copies the shape of its examples, so an example from one domain (an encyclopedia
biography, say) pulls drafts, decisions and answers toward that domain. These come from a made-up
product manual and a made-up town: no corpus a user brings must resemble them, and no model can
answer them from memory, so an example never leaks an answer into a real question.
"""

MANUAL_TITLE = "Lumen 3 lamp manual"
MANUAL_PASSAGE = "The Lumen 3 lamp runs for 12 hours on one charge. Its battery is made by Voltic."
DIRECT_QUESTION = "How long does the Lumen 3 lamp run on one charge?"
DIRECT_ANSWER = "12 hours"
WRONG_ANSWER = "8 hours"

BRIDGE_QUESTION = "Which city is the maker of the Lumen 3 lamp's battery based in?"
BRIDGE_ENTITY = "Voltic"
SEARCH_QUESTION = "Which lamp can be charged over USB-C?"

UNRELATED_TITLE = "Garden hose guide"
UNRELATED_PASSAGE = "Drain the hose and store it indoors before the first frost."

TOWN_QUESTION = "Who designed the harbour bridge in Port Elin?"
TOWN_PASSAGE = "The harbour bridge in Port Elin opened in 1932. It was designed by the engineer Mara Holt."
MANUAL_DRAFT = "The Lumen 3 lamp runs for about 12 hours on a full charge, and charging over USB-C takes three hours."

CLOSED_BOOK_QUESTION = "How many days are there in a week?"
CLOSED_BOOK_ANSWER = "seven"

SUMMARY_NOTES = "Lumen 3 lamp, Voltic. The Lumen 3 lamp runs for 12 hours. Its battery is made by Voltic."
SUMMARY = "The Lumen 3 lamp runs for 12 hours on a battery made by Voltic."
