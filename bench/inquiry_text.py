"""Words for the inquiry benchmark: subjects, message bodies and the search vocabulary.

Message bodies are a few sentences from per-category templates (order numbers, products,
cities, phone numbers filled in) plus a handful of words drawn from one Zipf-distributed
vocabulary: a few hundred common words (English, romanised Hindi/Tamil/Tagalog/Bengali and
some in their own scripts) at the head, then 100,000 made-up words in the tail. The tail is
what gives full-text search its selectivity: the word at rank ``r`` is expected in about
``expected_count(r, tokens)`` messages, from thousands down to a dozen or so.
``bench/run_inquiries.py`` picks its search words from the same list.
"""

from __future__ import annotations

import itertools
import random

_COMMON_TEXT = (
    # English, the words of a support desk
    "order delivery package parcel refund please thanks thank you help still not received yet when will "
    "arrive arrived late delay delayed tracking number courier address wrong item damaged broken missing "
    "replacement return payment charged twice invoice receipt cancel cancelled change phone email account "
    "update status today tomorrow week days waiting again urgent asap need gift birthday box opened seal "
    "screen charger cable size colour color model warranty exchange pickup label store online website app "
    "card bank transfer money back credit voucher discount price paid amount total shipping fee customs "
    "office home neighbour door bell call called nobody answered weekend morning evening driver van "
    "warehouse stock available soon sorry inconvenience apologise checked confirmed team escalated "
    "manager supervisor resolved issue problem complaint feedback experience quality product working "
    "stopped battery noise sound light quickly possible kindly regarding reference mentioned attached "
    "photo picture proof signature signed hello dear regards best "
    # romanised Hindi, Tamil, Tagalog, Bengali
    "namaste dhanyavaad kripya jaldi abhi tak nahi mila kab aayega paisa wapas bhai ji theek hai "
    "vanakkam nandri sikkiram innum varala enna aachu panam thirumba anna akka "
    "salamat po kailan darating pa hindi ko natanggap ang pera pakiusap bakit sira ate kuya "
    "dhonnobad onugroho kobe asbe ekhono pai ni taka ferot dada apu bhalo "
    # the same in their own scripts
    "नमस्ते धन्यवाद कृपया ऑर्डर अभी तक नहीं मिला पैसा वापस जल्दी "
    "வணக்கம் நன்றி தயவுசெய்து ஆர்டர் இன்னும் வரவில்லை பணம் திருப்பி "
    "নমস্কার ধন্যবাদ অনুগ্রহ অর্ডার এখনো পাইনি টাকা ফেরত "
    "salamat pakiusap padala"
)
COMMON = list(dict.fromkeys(_COMMON_TEXT.split()))  # unique, order kept (rank = position)
TAIL_SIZE = 100_000
ZIPF_S = 1.1
_ONSETS = [
    "b",
    "d",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "ch",
    "sh",
    "th",
    "kr",
    "tr",
    "pl",
    "br",
    "st",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ei"]
_CODAS = ["", "", "", "n", "r", "s", "l", "m", "x"]


def _tail_words(n: int) -> list[str]:
    rng = random.Random(8_675_309)
    seen = set(COMMON)
    words = []
    while len(words) < n:
        w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4)))
        w += rng.choice(_CODAS)
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


VOCAB = COMMON + _tail_words(TAIL_SIZE)
_WEIGHTS = [(r + 1) ** -ZIPF_S for r in range(len(VOCAB))]
CUM_WEIGHTS = list(itertools.accumulate(_WEIGHTS))
_TOTAL = CUM_WEIGHTS[-1]


def expected_count(rank: int, tokens: int) -> float:
    """How often the word at ``rank`` (0-based) is expected among ``tokens`` filler words."""
    return tokens * _WEIGHTS[rank] / _TOTAL


def rank_for_count(count: float, tokens: int) -> int:
    """The rank whose word is expected about ``count`` times among ``tokens`` filler words."""
    weight = count * _TOTAL / tokens
    return max(0, min(len(VOCAB) - 1, round(weight ** (-1 / ZIPF_S)) - 1))


def filler(rng: random.Random, k: int) -> str:
    return " ".join(rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=k))


# --- subjects and sentences per category -----------------------------------------------------------

SUBJECTS = {
    "order_status": [
        "Where is my order {order}?",
        "Order {order} status",
        "Order kab aayega? {order}",
        "Nasaan na ang order ko {order}",
        "ஆர்டர் {order} எப்போது வரும்?",
    ],
    "delivery": [
        "Parcel not delivered",
        "Delivery delayed for {order}",
        "Courier says delivered but nothing received",
        "Wrong address on {order}",
        "পার্সেল এখনো পাইনি",
    ],
    "billing": ["Charged twice for {order}", "Invoice needed", "Payment failed but money taken", "Refund not received"],
    "technical": ["{product} stopped working", "{product} not charging", "Problem with my {product}"],
    "product": ["Wrong item in the box", "{product} damaged on arrival", "Missing part of {product}"],
    "complaint": ["Very disappointed", "Complaint about the driver", "Third time asking: {order}"],
    "return": ["Return {product}", "How do I return {order}?", "Return label please"],
    "account_change": ["Change my phone number", "Update my email address", "Change delivery address"],
    "other": ["Question", "Gift wrap for {order}", "Do you deliver on Sunday?", "Bulk order question"],
}
INBOUND = [
    "I ordered {product} ({order}) and it has not arrived yet.",
    "The tracking number {tracking} has not moved for {days} days.",
    "My order {order} was supposed to come on {weekday} but nothing came.",
    "I was charged twice for order {order}, please refund one payment.",
    "The {product} arrived damaged, the box was opened.",
    "Please call me back on {phone}.",
    "I live in {city}, the courier says the address is wrong.",
    "Can you send the invoice for {order} to my email?",
    "I want to return the {product}, it is the wrong size.",
    "Still waiting for my refund for {order}.",
    "Order {order} abhi tak nahi mila, kripya jaldi bhejiye.",
    "Hindi ko pa natanggap ang {product} ko, order {order} po.",
    "ஆர்டர் {order} இன்னும் வரவில்லை, தயவுசெய்து உதவுங்கள்.",
    "অর্ডার {order} এখনো পাইনি, টাকা ফেরত চাই.",
]
OUTBOUND = [
    "Thank you for your patience. I checked order {order} with the warehouse.",
    "Your parcel is with {carrier}, tracking number {tracking}.",
    "I have asked the courier to deliver again on {weekday}.",
    "The refund for {order} has been issued and should reach your bank in {days} days.",
    "A replacement {product} is on its way.",
    "Could you send us a photo of the damaged {product}?",
    "I have updated the address on {order}.",
    "The invoice for {order} is attached.",
]
NOTES = [
    "Called the warehouse, order {order} is packed.",
    "Customer is upset, handle with care.",
    "Courier {carrier} confirms delay in {city}.",
    "Refund approved by supervisor.",
    "Asked billing to check the double charge on {order}.",
    "VIP customer, third inquiry this month.",
    "Left a voicemail on {phone}.",
]
GREETING_IN = {
    "en": ["Hello,", "Hi,", "Dear team,", ""],
    "hi": ["Namaste,", "नमस्ते,", "Hello,"],
    "ta": ["Vanakkam,", "வணக்கம்,", "Hello,"],
    "bn": ["Nomoskar,", "নমস্কার,", "Hello,"],
    "fil": ["Magandang araw po,", "Hello po,", "Hi,"],
}
# The reply frame of inquiries/services/compose.py, as it would read once translated.
GREETING_OUT = {
    "en": "Dear {first},",
    "hi": "प्रिय {first},",
    "ta": "அன்புள்ள {first},",
    "bn": "প্রিয় {first},",
    "fil": "Mahal na {first},",
}
CLOSING_OUT = {
    "en": "Kind regards,\n{rep}\nCustomer fulfillment team",
    "hi": "सादर,\n{rep}\nग्राहक सेवा टीम",
    "ta": "அன்புடன்,\n{rep}\nவாடிக்கையாளர் சேவை குழு",
    "bn": "শুভেচ্ছা,\n{rep}\nগ্রাহক সেবা দল",
    "fil": "Lubos na gumagalang,\n{rep}\nCustomer fulfillment team",
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
