"""Write the nlp_balance demo dataset: imbalanced customer-support messages for a fictional shop.

The shop is "Brightcart", an online store with an app. Every message is composed by a seeded
``random.Random`` from the hand-written inventory below (openings, many phrasings of each intent
with slots, context sentences, side remarks about other topics, closings) and then roughened
(typos, casing, dropped punctuation, emoji). Only the standard library is used, and the output is
byte-identical for the same seed. See data/README.md for the labelling rules and baseline figures.

Usage::

    python data/make_demo_dataset.py                 # writes data/demo/{train,test}.jsonl
    python data/make_demo_dataset.py --out DIR --seed 7
    python data/make_demo_dataset.py --baseline      # TF-IDF + LogisticRegression check (needs sklearn)
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

#: Seed of the committed files in data/demo/.
DEFAULT_SEED = 20240611

#: Examples per class as (train, test); test has the same proportions as train (one quarter).
CLASS_COUNTS: dict[str, tuple[int, int]] = {
    "delivery": (608, 152),
    "billing": (396, 99),
    "account_access": (264, 66),
    "product_defect": (172, 43),
    "refund": (120, 30),
    "security_fraud": (40, 10),
}

MIN_WORDS, MAX_WORDS = 3, 60

# --------------------------------------------------------------------------------------------
# Slot values. A slot is written {name} in a template; within one message a slot always takes
# the same value, so "order {order}" in two sentences refers to the same order.
# --------------------------------------------------------------------------------------------
PRODUCTS = (
    "pair of wireless earbuds", "standing desk", "coffee grinder", "yoga mat", "phone case", "air fryer",
    "rain jacket", "gaming mouse", "bluetooth speaker", "desk lamp", "pair of running shoes", "blender",
    "backpack", "smart watch", "electric toothbrush", "office chair", "winter coat", "kettle",
    "robot vacuum", "baby monitor", "hair dryer", "laptop stand", "water bottle", "sofa cover",
    "cordless drill", "mattress topper", "pair of sunglasses", "webcam", "toaster", "bike helmet",
    "kids' tablet", "espresso machine", "duvet set", "mechanical keyboard", "pair of hiking boots",
    "slow cooker", "fitness tracker", "ring light", "garden hose", "pair of noise cancelling headphones",
)
CITIES = (
    "Leeds", "Denver", "Lyon", "Porto", "Tucson", "Glasgow", "Krakow", "Austin", "Cork", "Bristol",
    "Ottawa", "Perth", "Valencia", "Manila", "Lagos", "Bucharest", "Phoenix", "Hamburg",
)
DEVICES = ("iPhone", "Android phone", "iPad", "laptop", "Samsung", "Pixel", "work laptop", "Chromebook")
PAYMENTS = ("credit card", "debit card", "PayPal", "Apple Pay", "Google Pay", "Visa", "Mastercard", "Amex")
PLANS = ("Brightcart Plus membership", "Plus subscription", "premium membership", "annual plan",
         "Plus trial", "monthly membership")
CODES = ("WELCOME10", "SPRING20", "FREESHIP", "SAVE15", "VIP25", "BACK2SCHOOL", "THANKYOU5", "FLASH30")
NAMES = ("Sarah", "Tom", "Priya", "M. Alvarez", "Dave K.", "Jenny", "Olu", "Marta", "Chris", "Aisha",
         "Ben", "Lena", "Raj", "Kim", "Paul", "Ines", "George", "Yusuf", "Hannah", "Luis")
EMAIL_USERS = ("sam.k", "jmiller88", "priya.r", "the.hendersons", "olu_b", "m.alvarez", "kimlee",
               "dave.k.1979", "lena.w", "chris_p", "aisha.m", "tomtom")
EMAIL_DOMAINS = ("example.com", "mail.example", "example.org", "inbox.example.net")
SHOPS = ("Brightcart", "Brightcart", "Brightcart", "brightcart.com", "Brightcart Online", "BRIGHTCART")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WHENS = ("yesterday", "last week", "two weeks ago", "on Monday", "last Friday", "three days ago",
         "a month ago", "this morning", "over the weekend", "ten days ago", "last night")
DAY_COUNTS = ("3", "4", "5", "6", "7", "8", "10", "12", "14", "three", "four", "five", "ten", "eleven")
YEARS = ("two", "three", "five", "6", "10", "many", "four", "eight")
FAKE_SITES = ("brightcart-support.help", "brlghtcart.com", "brightcart-refunds.net", "secure-brightcart.co",
              "brightcart.delivery-check.info", "bright-cart-login.com")


def _slot_value(name: str, rng: random.Random, values: dict[str, str]) -> str:
    """Draw one value for slot ``name`` (amounts share one currency within a message)."""
    if name == "product":
        return rng.choice(PRODUCTS)
    if name == "product2":
        return rng.choice([p for p in PRODUCTS if p != values.get("product")])
    if name == "order":
        digits = str(rng.randint(10000, 9999999))
        return rng.choice(("#{}", "#{}", "{}", "BC-{}", "#BC{}", "no. {}")).format(digits)
    if name in ("amount", "amount2"):
        if "cur" not in values:
            values["cur"] = rng.choice(("$", "$", "€", "£", "£"))
        while True:
            whole = rng.choice((rng.randint(4, 60), rng.randint(20, 250), rng.randint(99, 900)))
            cents = rng.choice(("", ".99", ".00", ".49", ".95", ".50", ".20"))
            text = f"{values['cur']}{whole}{cents}"
            if text != values.get("amount"):
                return text
    if name == "date":
        form = rng.randrange(4)
        if form == 0:
            return rng.choice(WEEKDAYS)
        day = rng.randint(1, 28)
        if form == 1:
            suffix = "st" if day in (1, 21) else "nd" if day in (2, 22) else "rd" if day in (3, 23) else "th"
            return f"the {day}{suffix}"
        if form == 2:
            return f"{rng.choice(MONTHS)} {day}"
        return f"{day}/{rng.randint(1, 12):02d}"
    if name == "when":
        return rng.choice(WHENS)
    if name == "days":
        return rng.choice(DAY_COUNTS)
    if name == "years":
        return rng.choice(YEARS)
    if name == "city":
        return rng.choice(CITIES)
    if name == "device":
        return rng.choice(DEVICES)
    if name == "payment":
        return rng.choice(PAYMENTS)
    if name == "plan":
        return rng.choice(PLANS)
    if name == "code":
        return rng.choice(CODES)
    if name == "name":
        return rng.choice(NAMES)
    if name == "email":
        return f"{rng.choice(EMAIL_USERS)}@{rng.choice(EMAIL_DOMAINS)}"
    if name == "shop":
        return rng.choice(SHOPS)
    if name == "tracking":
        return rng.choice(("1Z{}", "BC{}GB", "PG{}", "{}")).format(rng.randint(10**8, 10**10))
    if name == "points":
        return str(rng.randrange(200, 9000, 10))
    if name == "site":
        return rng.choice(FAKE_SITES)
    if name == "hours":
        return rng.choice(("two", "three", "four", "48", "24", "six"))
    raise KeyError(f"unknown slot {{{name}}} in a template")


_SLOT = re.compile(r"\{(\w+)\}")
_CHOICE = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")


def _fill(template: str, rng: random.Random, values: dict[str, str]) -> str:
    """Expand ``[a|b|c]`` alternatives (drawn per occurrence) and ``{slot}`` values (drawn per message)."""
    text = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)

    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            values[key] = _slot_value(key, rng, values)
        return values[key]

    return re.sub(r"  +", " ", _SLOT.sub(repl, text)).strip()


# --------------------------------------------------------------------------------------------
# Core intents: many distinct phrasings per class; "[a|b]" picks one alternative, "[|word ]" makes a
# word optional. Labelling rules (also in data/README.md):
#   refund          the customer wants money back (or asks where it is) for a return, a cancelled or
#                   unwanted order, a broken item or a parcel that never came: the requested outcome
#                   decides, even when the message is mostly about a defect or a delivery.
#   billing         charges, payment methods, invoices, prices, promo codes, subscriptions, without
#                   asking for a purchase to be paid back (a double charge to be corrected is billing).
#   delivery        where/when/how a parcel travels: tracking, delays, addresses, couriers, missing parcels.
#   product_defect  the item itself is faulty, damaged, incomplete or not as described, and the customer
#                   wants it fixed, explained or replaced (not refunded).
#   account_access  the customer's own trouble getting into or managing their login.
#   security_fraud  someone else is (or may be) acting in the customer's name: account takeover,
#                   orders or charges they did not make, phishing and scams using the shop's name.
# The last block of each class holds near-boundary cases written with a neighbour's vocabulary.
# --------------------------------------------------------------------------------------------
CORE: dict[str, tuple[str, ...]] = {
    "delivery": (
        "My [order|package|parcel] {order} still hasn't [arrived|come|turned up] and it's been {days} days.",
        "Where is my [package|parcel|order]? Tracking says delivered but there's nothing at my door.",
        "The tracking number you sent me doesn't work on the courier's website.",
        "Can I change the delivery address for order {order}? I put my old address by mistake.",
        "The app says my {product} has been out for delivery since {date} but nothing has shown up.",
        "The driver left a note saying nobody was home, but I was [home|in] all day.",
        "Is there any way to get the {product} before {date}? It's a [gift|present].",
        "My order has said 'label created' for a week now, has it actually shipped?",
        "I only got part of my order, the {product} wasn't in the box with the other things.",
        "The [package|parcel] was delivered to the wrong house, a neighbour two streets away had it.",
        "Why does shipping to {city} take so long? I [chose|picked|paid for] express.",
        "Can you hold my parcel at the depot? I'm away until {date}.",
        "I [picked|chose|selected] next-day delivery and it's been [three|four|five] days.",
        "The estimated delivery date keeps moving, first it was {date}, now it says next week.",
        "The courier marked it as left in a safe place. What safe place? I can't find it anywhere.",
        "Do you deliver to PO boxes? My order seems stuck because of that.",
        "Can I collect my order from a pickup point instead of having it [shipped|delivered]?",
        "Order {order} was split into two shipments and only one of them arrived.",
        "My parcel has been sitting at customs for {days} days, do I need to do something?",
        "The tracking page says the [package|parcel] is being returned to sender. Why??",
        "I need to rearrange the delivery of my {product}, nobody will be home on {date}.",
        "Has my order even left the warehouse? The app just says processing.",
        "I booked the morning slot for {date} and it's now evening, still nothing.",
        "Could you ask the driver to leave it with the neighbour at number [12|4|27|3b]?",
        "It says delivery attempted but nobody rang the bell and there's no card through the door.",
        "I ordered {when} with standard shipping, when should I expect it?",
        "My [package|parcel|order] has been 'in transit' in the same city for a week.",
        "The checkout won't accept my postcode, can you even ship to {city}?",
        "I moved house last week, can the order go to my new address instead?",
        "Your delivery driver threw my parcel over the fence and drove off.",
        "I placed the order {when} but never got a shipping confirmation.",
        "This is the third time the delivery of order {order} has been postponed.",
        "The box was too big for my mailbox so the courier took it back, how do I get it now?",
        "Will the {product} arrive before the holidays if I order today?",
        "Tracking hasn't updated since {date}. Is it lost?",
        "I got a message that my parcel is waiting in a locker but I never chose a locker.",
        "The live map in the app shows the driver going in circles for [two|three] hours.",
        "Can I add something to my order before it ships so everything comes in one box?",
        "Which courier is handling order {order}? I need someone to sign for it at the office.",
        "Two of the three items came, where's the rest of my order?",
        "Can my parcel be left without a signature? I'm at work all day.",
        "The delivery window says 8am to 8pm, can you narrow that down at all?",
        "It was supposed to be here by {date}. Still waiting.",
        "The envelope arrived empty, my {product} wasn't in it.",
        "Why is my order going to another country according to the tracking?",
        "The tracking number {tracking} shows no information at all.",
        "Your courier says the address is incomplete, but it's the same address as always.",
        "Is weekend delivery possible? I can't be home on weekdays.",
        "Can I still change the shipping method on order {order} to express?",
        "The order page says delivered {when}, I have received nothing.",
        "Do you ship internationally? I want to send the {product} to my sister in {city}.",
        # near-boundary: billing, refund, account and fraud vocabulary, delivery intent
        "I paid extra for express, the charge went through {when}, but the parcel hasn't moved since.",
        "Someone signed for my parcel but it wasn't me. Who did the driver give it to?",
        "My account says the order was delivered, but I never got it. Where did it go?",
        "I don't want a refund, I just want to know where my {product} is.",
        "The replacement {product} you promised still hasn't been sent, can you check the shipping?",
        "The parcel went to my old address, which apparently is still saved in my account.",
        "The charge is on my card so the order went through, but there's no tracking at all.",
        "Someone at the depot keeps saying my address doesn't exist. It does.",
        "I returned the wrong item by mistake, can the courier "
        "pick up the right one and bring the other back?",
        "Can I get the {product} delivered to my work address instead? My account only lets me pick one.",
        "Not asking for my money back yet, I just need to know if order {order} is coming at all.",
        "The payment was taken {when} and the order still says 'awaiting dispatch'.",
        "I can't find the tracking link in my account, where has my parcel got to?",
        "The {product} isn't broken or anything, it just never arrived.",
        "The courier says he handed it to someone called {name}. Nobody by that name lives here.",
        "Could you send it to a pickup point instead? Please don't cancel the order.",
        "I logged in to check my order and it says delivered in a town I don't live in.",
    ),
    "billing": (
        "I was [charged|billed] twice for order {order}, please correct the second charge.",
        "Why was I [charged|billed] {amount} when the checkout said {amount2}?",
        "My {payment} keeps getting declined at checkout even though it works everywhere else.",
        "How do I update the card on my account? The old one expired.",
        "I need a VAT invoice for order {order} for my company.",
        "The promo code {code} didn't apply and I paid full price.",
        "My {plan} renewed automatically and nobody told me it would. How do I turn that off?",
        "Can I pay for my order in instalments?",
        "There's a pending authorisation of {amount} from an "
        "order I cancelled, will it disappear on its own?",
        "The price dropped the day after I bought the {product}, can you match the new price?",
        "I was charged in euros instead of dollars and my bank added a conversion fee.",
        "The invoice shows the wrong company name, can you reissue it?",
        "Why does my statement show {shop} {amount} twice? I only ordered once.",
        "My gift card balance wasn't used at checkout, it charged my card instead.",
        "How do I remove my saved card from the app?",
        "Can you send me receipts for all my orders this year?",
        "Checkout said payment failed but the money was taken from my account anyway.",
        "My membership fee went up without any notice.",
        "I'd like to switch my {plan} from monthly to yearly billing.",
        "I got charged a late fee on my pay-later plan but I paid on time.",
        "Apple Pay isn't showing as an option at checkout anymore.",
        "Is tax included in the price shown or added at the end?",
        "The total on my order confirmation doesn't match what was taken from my card.",
        "I used my store credit and it still charged my {payment} for the full amount.",
        "I'd like to change the billing address on my invoices.",
        "You charged me for express shipping but I [selected|picked|chose] standard.",
        "My bank says the payment was processed abroad, why is that?",
        "Please cancel my {plan} before the next billing date.",
        "I was billed for the {plan} even though it said free for 30 days.",
        "The coupon says 20% off but I only got 10% off.",
        "Can I split the payment between two cards?",
        "The payment page just spins forever after I enter my card details.",
        "Do you accept {payment}? I couldn't find it at checkout.",
        "I was charged {amount} for an order that is still processing, is that normal?",
        "The student discount isn't applying to my account.",
        "I need a copy of the invoice for order {order}, the download link in the app is broken.",
        "My card was charged but the app says the order failed. Did it go through or not?",
        "The bundle was supposed to be cheaper than buying separately but I paid more.",
        "Why is there a {amount} 'service fee' on my order?",
        "Could you explain my last statement? Three payments for one order.",
        "How do I get the invoice to show my business address instead of my home address?",
        "My {payment} was charged {amount} but the order says {amount2}, which one is right?",
        "Do you offer price adjustments? The {product} is on sale now.",
        "Can I change the payment method on order {order} before it ships?",
        "The pay-later option disappeared from checkout, was my limit changed?",
        "You took the membership fee from my old card instead of the new one I added.",
        # near-boundary: refund, fraud, account and delivery vocabulary, billing intent
        "I'm not asking for a refund, I just want to know why shipping cost {amount}.",
        "I don't want my money back, I just want the extra charge corrected on the invoice.",
        "What is this {amount} charge from {shop}? Is it the {plan} renewing?",
        "I didn't recognise a charge at first but it's my {plan}. Why is it more than last month?",
        "The refund came through fine, but now I've been charged again for the same order.",
        "My account shows a payment of {amount} called 'adjustment', what is that for?",
        "The delivery fee was added twice at checkout, can you fix the total?",
        "The app charged me for the {product} in my basket even though I never pressed buy.",
        "My bank blocked your payment as suspicious, it was me, how do I pay now?",
        "I'm locked into a yearly plan I thought was monthly, can you change the billing?",
        "Can you put the invoice in my company's name? The order was delivered {when}.",
        "Why was I charged for the replacement {product}? It was supposed to be free.",
        "Please don't refund anything, just tell me which card was charged for order {order}.",
        "My card was charged {amount} for a parcel that hasn't even shipped yet, is that how it works?",
        "Someone at my company needs a receipt for the {product}, can you email it?",
        "I didn't mean to upgrade to the {plan}, I must have "
        "clicked it by accident. Can I switch back to free?",
        "The app shows a charge I don't understand, it just says 'pre-authorisation'.",
        "My account says I owe {amount} on pay later, but I paid it {when}.",
        "Is the {amount} on my card a deposit? The {product} hasn't been delivered yet.",
    ),
    "account_access": (
        "I can't [log in|sign in|get into my account], it says my password is wrong but I just reset it.",
        "The password reset email never arrives, I've checked spam too.",
        "I'm not getting the verification code by text anymore.",
        "My account got locked after too many login attempts, how long until I can try again?",
        "I changed my phone number and now I can't get the two-factor code.",
        "The app keeps logging me out every time I close it.",
        "How do I change the email address I use to sign in?",
        "I signed up with Google and now it wants a password I never set.",
        "It says 'account not found' but I've ordered from you with this email for years.",
        "I want to delete my account and all my data.",
        "The login button in the app doesn't do anything on my {device}.",
        "I have two accounts by mistake, can you merge them into one?",
        "The reset link says it has expired even though I clicked it straight away.",
        "I forgot which email I used for my account. Can you find it from order {order}?",
        "Your captcha won't let me through, I've done it ten times.",
        "I lost my phone with the authenticator app on it, how do I get back in?",
        "My account has been deactivated and I don't know why.",
        "After logging in I can't see my order history, it's like a brand new account.",
        "The app tells me my session expired every five minutes.",
        "I'm stuck in a loop: log in, verify email, back to log in.",
        "The verification email link opens a blank page.",
        "How do I turn off two-step verification? It keeps locking me out.",
        "I can [log in|sign in] on the website but not in the app.",
        "I no longer have access to the email on my account, it was my old work address.",
        "It says my email is already registered when I try to sign up, but I can't log in with it either.",
        "Face ID login stopped working after the last app update.",
        "Please reactivate my account, I closed it by accident.",
        "I keep getting 'incorrect username or password' and I'm 100% sure it's right.",
        "The SMS code only arrives after it has already expired.",
        "I can't update my password, the save button is greyed out.",
        "Where are the account settings in the new app? I need to change my login.",
        "My kid changed the password on my account and now neither of us remembers it.",
        "Sign in with Apple just says 'something went wrong'.",
        "I want to change the phone number on my account but it sends the code to the old number.",
        "The account recovery form keeps rejecting the photo of my ID.",
        "Every time I log in on my {device} it asks me to verify again.",
        "I can't log in since I changed my email address, which one is my username now?",
        "The code from the authenticator app is always rejected.",
        "Can you unlock my account? I typed the wrong password a few times on my {device}.",
        "Your new login page doesn't accept passwords with a space in them.",
        "How do I log out of all devices? I signed in on my friend's phone and forgot to sign out.",
        # near-boundary: fraud, billing, delivery and refund vocabulary, access intent
        "The login page says 'suspicious activity, sign-in blocked' but it was just me on a new {device}.",
        "I changed my password for security reasons and now it won't accept the new one.",
        "I got an email that my password was changed, and yes that was me, but now the app won't let me in.",
        "I got a security alert about a new login, that was me on my {device}, but now I'm locked out.",
        "My account was suspended after I disputed a charge with my bank, can you unlock it?",
        "I was charged for the {plan} but I can't even log in to use it.",
        "I can't track my parcel because the app won't let me log in.",
        "I need to request a refund but I can't get into my account to do it.",
        "The site logged me out in the middle of checkout and now I can't get back in.",
        "Someone in my family set up the account and I don't know the password, how do I get access?",
        "My order history is gone since I reset my password, am I in the wrong account?",
        "The app says my card needs verifying before I can sign in, what does that mean?",
        "Nobody has hacked me, I just can't remember my password and the reset doesn't work.",
        "I didn't get the login code, and no, nobody else is trying to log in, it's just not arriving.",
        "My account is locked after a failed payment, how do I get back in?",
        "The app says 'unusual activity' every time I log in from work, it's me every time.",
        "I want to change my password but I can't remember the old one.",
        "Not a refund question: I just can't log in to see my orders.",
    ),
    "product_defect": (
        "The {product} [stopped working|died|packed in|gave up] after [two|three|a few] days.",
        "My {product} arrived with a crack down the side.",
        "The {product} [won't turn on|won't switch on|is completely dead], even after charging it overnight.",
        "Some parts are missing from the box, there are no screws for the legs.",
        "The {product} makes a loud [grinding|clicking|buzzing] noise whenever I use it.",
        "The zip on the {product} broke the first time I used it.",
        "The colour is completely different from the photos, it's orange, not red.",
        "The left earbud has no sound at all.",
        "The battery in the {product} lasts about an hour, the listing says twelve.",
        "The kettle leaks water all over the counter.",
        "It smells like burning plastic when I switch it on, is that normal?",
        "The stitching came apart after one wash.",
        "The app won't pair with my {product}, it just says device not found.",
        "Can you send me a [replacement|new] {product}? Mine "
        "is [faulty|defective|broken|not working properly].",
        "The charging cable that came with it doesn't fit the port.",
        "The label says M but it fits like an XS, I think the size is wrong.",
        "The [screen|display|light] on the {product} [flickers|goes dim|cuts out] all the time.",
        "The handle snapped off the first time I lifted the pan.",
        "Is the {product} still under warranty? It already broke.",
        "My {product} [overheats|gets really hot] and shuts itself off after [ten|twenty|a few] minutes.",
        "The buttons on the remote keep sticking.",
        "There were no instructions in the box and I can't work out how to assemble it.",
        "The paint is peeling off the chair after a week.",
        "Bluetooth keeps disconnecting every few minutes on the {product}.",
        "The seal on the water bottle is faulty, everything in my bag got wet.",
        "The {product} makes a high-pitched whine, how do I fix it?",
        "A firmware update bricked my {product}, now it just blinks red.",
        "The fabric is much thinner than described and already has a hole in it.",
        "The motor sounds like it's dying and I've had it a week.",
        "The display shows error code E4, what does that mean?",
        "The {product} heats unevenly, one side burns and the other stays cold.",
        "I followed the manual but the {product} still won't connect to wifi.",
        "Three of the six glasses in the set came chipped.",
        "The strap on the {product} tore at the seam.",
        "The robot vacuum lost almost all its suction after a month.",
        "One of the legs is shorter than the others so the desk wobbles.",
        "The {product} only charges if I hold the cable at a certain angle.",
        "The lid doesn't close properly anymore, the hinge looks bent.",
        "Half the keys on the keyboard double type.",
        "The microphone on the {product} is so quiet nobody can hear me on calls.",
        "The sole of one shoe is already coming off.",
        "The {product} resets itself randomly, I've tried factory resetting it.",
        "Could you send just the missing part instead of a whole new {product}?",
        "The cushion has a big stain that was there when I unwrapped it.",
        "The timer on the {product} doesn't work, it just keeps running.",
        "I got the {product} as a gift and it rattles, something is loose inside.",
        # near-boundary: delivery, refund, account and billing vocabulary, defect intent
        "It arrived with a [dent|crack|bent corner] and now the [door|lid|drawer] doesn't close properly.",
        "The glass was shattered inside the box when I opened it.",
        "The parcel came {when} and the {product} inside already doesn't charge.",
        "I don't want a refund, I just need the {product} to work. It keeps switching off.",
        "The box was crushed in transit and the {product} inside is bent, can I get a new one sent?",
        "The app says the {product} firmware is out of date and the update fails every time.",
        "I can't log in to the {product} companion app because the device won't show up, is it faulty?",
        "Is it normal that the new {product} is this loud? I paid {amount} for it.",
        "The replacement you sent is broken in exactly the same way as the first one.",
        "It's not the delivery, the courier was fine, the {product} itself is just bad quality.",
        "The power button on the {product} does nothing at all. What should I try?",
        "I'm not asking for money back, I want the {product} repaired under warranty.",
        "The charger sparked when I plugged it in, is the {product} safe to use?",
        "The app that goes with the {product} says the device is faulty, can you replace it?",
        "The courier left it in the rain and now the {product} won't switch on. Can you send a new one?",
    ),
    "refund": (
        "I returned the {product} two weeks ago and still haven't got my [money back|refund].",
        "When will the [refund|money] for order {order} show up on my card?",
        "I cancelled order {order} before it [shipped|was dispatched|left the warehouse], "
        "[please refund me|can I have my money back|where is my refund]?",
        "You said the [refund|reimbursement|credit] was [processed|issued|sent] "
        "on {date} but my [bank|card|account] shows nothing.",
        "I only got [a partial refund|part of my money back], the [shipping|delivery] cost wasn't included.",
        "Can I get the refund to my {payment} instead of store credit?",
        "The return label doesn't scan, how am I supposed to send it back and get my money?",
        "It's been over 30 days, can I still return the {product} for a refund?",
        "The refund went to my old card which is closed now, what happens to the money?",
        "I was told I'd get {amount} back but only {amount2} came through.",
        "The courier confirmed you received my return on {date}, so where is my refund?",
        "The {product} isn't what I expected and I'd like to send it back for my money.",
        "The refund status has said 'approved' for ten days, when does it actually get paid?",
        "How long do [refunds|reimbursements] to [PayPal|a credit card|Apple Pay|a debit card] take?",
        "I dropped the return off at the post office {when}, do I need to do anything else to be refunded?",
        "The return window closed a day ago but I was in hospital, could you still refund it?",
        "Why was a restocking fee taken off my refund?",
        "The {product} I got as a gift doesn't fit, can the money go back to the person who bought it?",
        "I'm still waiting for the refund for the {product} you told me to keep.",
        "I changed my mind about the {product}, it's still sealed. "
        "[Money back please.|Can I return it for a refund?|How do I get my money back?]",
        "My refund was rejected because the item was 'used', it wasn't.",
        "Your warehouse signed for my return {when} but the refund still says pending.",
        "The refund was issued as store credit without asking me. I want it back on my card.",
        "My bank says no refund has been sent. Can you give me a reference number for it?",
        "I was promised a refund by your chat agent {when}, it still hasn't appeared.",
        # near-boundary: defect, delivery and billing vocabulary, money-back intent
        "The {product} broke after a week and honestly I just want my money back, not a replacement.",
        "My package never arrived and I'd like a full refund instead of a resend.",
        "Please refund the shipping fee, the order arrived a week late.",
        "I ordered two by accident, can you refund one of them?",
        "You charged me for an item that was out of stock and got cancelled. I want that money back.",
        "The item was damaged, I sent photos, and I was promised a refund. Nothing yet.",
        "Could you refund the difference? I paid for the large size and you sent the small one.",
        "I'd like to cancel my {plan} and get a refund, I haven't used it once this year.",
        "Half of my order was cancelled by you, but I paid for all of it. When do I get that part back?",
        "The {product} was faulty, I don't want another one, "
        "[just reimburse me|just refund it|I'd rather have the money].",
        "You refunded {amount} for a {amount2} order, please send the rest.",
        "Do I get my money back if I refuse the delivery at the door?",
        "I sent back the {product} and the {product2} in one box but only got money back for one.",
        "Order {order} never came and the tracking is dead. I'd rather have my money back than wait.",
        "Can you refund my {plan}? It renewed after I cancelled it.",
        "The parcel went back to you as undeliverable, so please put the money back on my card.",
        "You charged my card for a replacement that never shipped, I want that amount returned.",
        "The {product} doesn't work and I've given up on it. Can I have the {amount} back?",
        "I can't be bothered with another delivery, just reverse the payment for order {order}.",
        "Don't send another one, just give me my money back for order {order}.",
        "The tracking says returned to sender, so when do I get my money?",
        "I was charged for two but only got one. Please send back the money for the missing one.",
        "Can I get my money back for the {plan}? I signed up by mistake {when}.",
        "Not interested in a voucher, I want the {amount} back on my card.",
        "The {product} still works but I don't need it anymore, "
        "it's within 14 days. How do I get my money back?",
    ),
    "security_fraud": (
        "[Someone|Somebody] placed an order on my account that I "
        "didn't [make|place], it's going to an address in {city}.",
        "There's a {amount} charge from {shop} on my card and I have never shopped with you.",
        "I got an email saying my account is suspended and asking for my card number, is that really you?",
        "My password was changed and it wasn't me. Now I can't get in.",
        "Somebody spent my gift card balance, it's gone and I didn't use it.",
        "Login alert from {city} at 3am. I've never been there, please lock my account.",
        "The email on my account was changed to one I don't recognise.",
        "[Orders|Purchases] I never [placed|made] are showing up in my [order history|account].",
        "Someone called me pretending to be {shop} support and asked for my verification code.",
        "My saved card was used for three orders yesterday and none of them were me.",
        "I think my account was hacked, my address and phone number are different now.",
        "A seller on your marketplace asked me to pay outside the app, is that legit?",
        "Is {site} really your website? It looked exactly like yours and I typed my login into it.",
        "Someone redeemed my reward points, I had {points} and now it's zero.",
        "The app shows a [device|phone|laptop] logged into my account that isn't mine.",
        "Please [freeze|lock|block] my account, I think someone [has|got hold of|knows] my password.",
        "Someone is using my account to send messages to sellers.",
        "There's a new saved card on my account that isn't mine.",
        "I got a call saying my {shop} account was compromised and they needed remote access to my laptop.",
        "Someone opened an account with my email address and is ordering things on pay later.",
        "I got a 'you won a voucher' text from {shop} asking for my bank login, is this you?",
        # near-boundary: delivery, billing, refund and access vocabulary, fraud intent
        "I got a text with a link to pay a 'redelivery fee' for {shop}, I think it's fake.",
        "I got a refund confirmation for an order I never placed, something is off.",
        "I got a login code I didn't request. Is someone trying to get into my account?",
        "My bank flagged several payments to {shop} that I didn't authorise.",
        "A parcel I didn't order arrived in my name with a note asking me to forward it.",
        "I received an invoice by email with your logo asking "
        "me to pay {amount}, I've never ordered anything.",
        "Somebody changed the delivery address on my order to somewhere I've never lived.",
        "I clicked a link in a message about a held parcel "
        "and now there are charges on my card I didn't make.",
        "I keep getting password reset emails that I never asked for.",
        "My {plan} was bought on my account but not by me.",
        "Two orders to an address in {city} were paid with my PayPal and I didn't place them.",
        "The tracking for an order I never made shows it going to {city}.",
        "I got an email about a refund with a link asking me to confirm my card details, is it real?",
        "My account now has a different phone number and I can't log in anymore.",
        "My account shows a login from a {device} I don't own.",
        "There's an order for a {product} in my account that "
        "I never made, please cancel it and check my account.",
        "I didn't sign up for the {plan}, someone must have used my card.",
        "A courier delivered a {product} I never ordered, and now I'm being charged for it.",
        "The address on my account was changed and I didn't do it.",
        "My account is showing an address in {city} and a phone number I don't know.",
        "I can't log in and the email on my account now ends in a domain I've never used.",
        "Why does my account have orders going to {city}? I live nowhere near there.",
        "There are three payments to {shop} on my statement from {when} and I haven't bought anything in months.",
        "I got a text with a {shop} login code but I wasn't trying to log in.",
        "My reward points balance is zero and I haven't spent any of them.",
        "My gift card says it's already been redeemed, I only got it {when} and haven't used it.",
        "The order confirmation in my inbox is for a {product} going to {city}, I didn't buy that.",
        "A woman called saying she's from your billing team and needed the security code on my card.",
    ),
}

# Short forms, the way people type into a chat box.
TERSE: dict[str, tuple[str, ...]] = {
    "delivery": (
        "where is my order", "package still not here", "still no parcel after {days} days",
        "tracking not updating", "order {order} status?", "delivery late again",
        "wrong address on my delivery", "parcel missing, says delivered", "when will my order ship",
        "not delivered yet, why", "has order {order} shipped?", "where's my {product}??",
        "change delivery address please", "parcel stuck at customs", "driver never came",
        "is my package lost", "need it by {date}, will it come?", "order says delivered, it isnt",
    ),
    "billing": (
        "charged twice for one order", "double charge on my card", "need an invoice for {order}",
        "promo code not working", "payment keeps getting declined", "card won't go through at checkout",
        "can I get a receipt", "wrong amount charged", "cancel my {plan} before renewal",
        "why was I charged {amount}", "how to update payment method", "checkout says payment failed",
        "billed for the free trial??", "what is this {amount} charge", "discount code didnt apply",
        "extra fee on my order?",
    ),
    "account_access": (
        "can't log in", "password reset not working", "locked out of my account",
        "no verification code arriving", "login error on the app", "reset link expired again",
        "2fa code never comes", "app keeps logging me out", "please delete my account",
        "account locked??", "reset email not arriving", "forgot my password and email",
        "cant sign in on {device}", "how do I change my login email",
    ),
    "product_defect": (
        "{product} broken already", "item arrived damaged", "it doesn't turn on", "faulty {product}",
        "parts missing from the box", "{product} stopped working", "screen cracked out of the box",
        "need a replacement {product}", "{product} not charging", "one earbud has no sound",
        "{product} making weird noise", "lid broken on arrival",
    ),
    "refund": (
        "where is my refund", "refund please, order {order}", "I want my money back",
        "refund not received yet", "still waiting on my refund", "return and refund for {order}",
        "how long does a refund take", "refund status?", "money back for the {product} pls",
        "returned it {when}, no refund",
    ),
    "security_fraud": (
        "my account was hacked", "orders I didn't place on my account", "is this email from you a scam?",
        "someone changed my password, not me", "charge from you I didn't make",
        "phishing text pretending to be {shop}", "unknown device logged into my account",
    ),
}

# Sentences that follow a core intent and stay on its topic.
DETAILS: dict[str, tuple[str, ...]] = {
    "delivery": (
        "Tracking number is {tracking}.", "It was supposed to come on {date}.",
        "I need it by {date} for a birthday.", "I've been home all day waiting.",
        "The courier's hotline just hangs up on me.", "The last update says it left the depot.",
        "My neighbours haven't seen anything either.", "I live in a flat with a concierge if that helps.",
    ),
    "billing": (
        "My bank shows both as completed, not pending.", "I have a screenshot of my statement.",
        "It's for my company's expense report.", "The order total was {amount}.",
        "I'd like this sorted before my card statement closes.", "The same thing happened last month.",
        "It's the {payment} ending in [4417|0932|7781|2205].",
    ),
    "account_access": (
        "I've tried two different browsers.", "I cleared the cache and reinstalled the app.",
        "I can't place any orders until this is fixed.", "My username is the same as my email.",
        "The email on the account is {email}.", "I've tried resetting it three times now.",
    ),
    "product_defect": (
        "I've only used it a handful of times.", "I followed the instructions exactly.",
        "I can send photos.", "It was a gift so this is "
        "embarrassing.", "I tried a different socket, same thing.",
        "I'd be happy with a replacement part.", "The box itself looked fine.",
    ),
    "refund": (
        "The return tracking shows it reached your warehouse on {date}.",
        "I really need that money back before the end of the month.", "I paid {amount} for it.",
        "I have the receipt from the post office.", "Your policy says refunds take 5 days.",
        "I sent it back in the original packaging.",
    ),
    "security_fraud": (
        "I've already called my bank to block the card.", "I never shared my password with anyone.",
        "I don't even live in {city}.", "Please tell me what information they could see.",
        "I've changed my email password just in case.", "I'm worried my account has been hacked.",
        "Is this a phishing attempt?",
    ),
}

# Context sentences that fit any intent; they carry the vocabulary all classes share.
CONTEXT = (
    "I ordered a {product} {when}.", "Order number is {order}.", "This is about order {order}.",
    "I've been a customer for {years} years.", "I already tried the help centre and the chatbot.",
    "This is the third time I'm writing about this.", "I'm using the app on my {device}.",
    "My partner placed the order but it's on my account.", "I bought it as a present for my mum.",
    "Nobody answered the phone line so I'm writing here.", "I'm travelling at the moment so email is best.",
    "I checked the FAQ but it didn't cover this.", "It was my first order with {shop}.",
    "I paid with {payment}.", "My account email is {email}.", "I have screenshots if you need them.",
    "I ordered a few things at once.", "The chat agent told me to email instead.",
    "I got the confirmation email at the time.", "Last time "
    "you sorted things out quickly, so fingers crossed.",
    "I'm writing from my husband's phone.", "I use the same account for my small business.",
    "English isn't my first language, sorry.", "The order was for {amount} in total.",
    "I'm not very good with apps.", "The {product} was on sale at the time.",
    "I placed the order through the app.", "I have the {plan}.", "Everything else in the order was fine.",
    "The order arrived {when}.", "I was charged {amount} for it.", "I logged in on the website to check.",
    "Someone at your call centre said they'd email me back, they didn't.", "I didn't get any email about it.",
    "I checked my account and it just says 'processing'.", "I paid for it {when}.",
)

# Short remarks about another topic, added after the main request (the label never comes from them).
SIDE: dict[str, tuple[str, ...]] = {
    "delivery": (
        "the last order also took ages to arrive", "delivery was a day late but whatever",
        "the courier was really nice though", "I'm still waiting on another parcel too",
        "the tracking in the app is confusing",
    ),
    "billing": (
        "I still need an invoice for it, but that's less "
        "urgent", "the promo code didn't work either, never mind",
        "I'd also like a receipt at some point", "the price seems to have gone up since",
        "my card was charged the right amount at least",
    ),
    "account_access": (
        "I had to reset my password just to get in here", "the app logged me out twice while writing this",
        "the login page is really slow today", "I couldn't sign in on the app so I'm using the website",
    ),
    "product_defect": (
        "one of the other items has a small scratch but I can live with it",
        "the box was a bit squashed but the contents are fine", "the instructions were confusing too",
    ),
    "refund": (
        "I might return the other item later but that's a separate thing",
        "I'm still waiting on a refund for something else too", "your refund page is hard to find",
    ),
}
SIDE_INTROS = ("Also, {}.", "Unrelated, but {}.", "Side note: {}.", "btw {}.", "({})", "Oh and {}.",
               "Not important, but {}.", "P.S. {}.")


OPENINGS = (
    "Hi,", "Hello,", "Hey,", "Hi there,", "Good morning,", "Good afternoon.", "Hello team,",
    "Dear {shop},", "Dear customer service,", "hey guys", "Hiya,", "To whom it may concern,",
    "Hi, hope you're well.", "Quick question:", "Urgent:", "Help!", "Sorry to bother you,",
    "Hi {shop} team,", "Evening,", "Hello? Is anyone reading these?", "ok so", "Hi, me again.",
    "Hi, my name is {name}.", "Hello, I hope someone can help.", "Morning!", "Hey there.",
)
TERSE_OPENINGS = ("hi", "hey", "hello", "help", "urgent:", "hi,", "pls", "question:")
CLOSINGS = (
    "Thanks.", "Thank you!", "Thanks in advance.", "Cheers, {name}", "Regards, {name}", "Best, {name}",
    "Please help.", "Please get back to me asap.", "Waiting for your reply.", "thx", "ty",
    "Appreciate it.", "Let me know.", "Please sort this out.", "Many thanks, {name}", "- {name}",
    "Sent from my iPhone", "Thanks!!", "Thank you for your help.", "Hope to hear from you soon.",
    "Kind regards.", "Thanks a lot.", "Any help appreciated.",
)
ANGRY = (
    "This is ridiculous.", "Absolutely unacceptable.", "Worst customer service I've ever dealt with.",
    "I'm so done with this.", "Seriously??", "Fix it now.", "I'm going to leave a review about this.",
    "Never ordering again.", "Why is this so hard?", "Unbelievable.", "I want this sorted TODAY.",
    "I've had enough.", "Honestly fed up.",
)
EMOJI = ("🙁", "😡", "😤", "🙏", "😭", "🤦", "😕", "👀", "😩", "😊", "👍", "🙄", "😬")
EMPHASIS = ("not", "still", "never", "twice", "again", "already", "nothing", "nobody", "no", "now", "all")
SLANG = ((r"\byou\b", "u"), (r"\byour\b", "ur"), (r"\bplease\b", "pls"), (r"\bthanks\b", "thx"),
         (r"\bbecause\b", "bc"), (r"\bare\b", "r"), (r"\bwith\b", "w/"), (r"\bto be honest\b", "tbh"))
KEYBOARD = {
    "a": "qs", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}
SHAPES = ("terse", "short", "medium", "long")
SHAPE_WEIGHTS = (16, 30, 36, 18)
REGISTERS = ("clean", "casual", "sloppy", "angry", "runon")
REGISTER_WEIGHTS = (38, 26, 16, 12, 8)


def _typo(word: str, rng: random.Random) -> str:
    """Return ``word`` with one keyboard slip: swapped, dropped, doubled or neighbouring letter."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    low = word[i].lower()
    return word[:i] + rng.choice(KEYBOARD.get(low, low)) + word[i + 1:]


def _add_typos(text: str, count: int, rng: random.Random) -> str:
    """Put ``count`` typos into distinct alphabetic words of four letters or more."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    for i in rng.sample(candidates, min(count, len(candidates))):
        words[i] = _typo(words[i], rng)
    return " ".join(words)


def _roughen(text: str, register: str, rng: random.Random) -> str:
    """Apply the surface habits of one writing register (casing, punctuation, typos, emoji) to a message."""
    if register == "clean":
        if rng.random() < 0.12:
            text = _add_typos(text, 1, rng)
        return text
    if register == "casual":
        if rng.random() < 0.5:
            text = re.sub(r"(^|[.!?] )([A-Z])(?=[a-z ])", lambda m: m.group(1) + m.group(2).lower(), text)
        text = re.sub(r"\.$", "", text)
        if rng.random() < 0.3:
            text = _add_typos(text, 1, rng)
        if rng.random() < 0.3:
            text += " " + rng.choice(EMOJI)
        return text
    if register == "sloppy":
        text = text.lower().replace("'", "")
        for pattern, short in SLANG:
            if rng.random() < 0.5:
                text = re.sub(pattern, short, text)
        if rng.random() < 0.6:
            text = re.sub(r"[.,;:](?=\s|$)", "", text)
        text = _add_typos(text, rng.randint(1, 3), rng)
        if rng.random() < 0.2:
            text += " " + rng.choice(EMOJI)
        return text
    if register == "angry":
        words = text.split(" ")
        spots = [i for i, w in enumerate(words) if w.lower().strip(".,!?") in EMPHASIS]
        for i in rng.sample(spots, min(len(spots), rng.randint(1, 2))):
            words[i] = words[i].upper()
        text = " ".join(words)
        text = re.sub(r"[.!]$", rng.choice(("!", "!!", "!!!", ".")), text)
        if rng.random() < 0.25:
            text += " " + rng.choice(("😡", "😤", "🤬", "🙄"))
        if rng.random() < 0.04:
            text = text.upper()
        return text
    # runon: one breath, sentence ends become commas or nothing, mostly lower case
    text = re.sub(r"[.!](\s+)", lambda m: rng.choice((",", "", " -")) + m.group(1), text)
    text = re.sub(r"[.]$", "", text)
    if rng.random() < 0.7:
        text = text.lower()
    if rng.random() < 0.4:
        text = _add_typos(text, 1, rng)
    return text


def compose(label: str, rng: random.Random) -> str:
    """Compose one message whose dominant intent is ``label``, with a random length and register."""
    values: dict[str, str] = {}
    shape = rng.choices(SHAPES, SHAPE_WEIGHTS)[0]
    if shape == "terse":
        parts = [_fill(rng.choice(TERSE[label]), rng, values)]
        if rng.random() < 0.25:
            parts.insert(0, rng.choice(TERSE_OPENINGS))
        if rng.random() < 0.2:
            parts.append(rng.choice(("??", "!!", "asap", "pls", "thx", rng.choice(EMOJI))))
        text = " ".join(parts)
        return _roughen(text, rng.choice(("clean", "casual", "sloppy", "sloppy")), rng)

    body = [_fill(rng.choice(CORE[label]), rng, values)]
    extra = {"short": rng.randint(0, 1), "medium": rng.randint(1, 2), "long": rng.randint(2, 4)}[shape]
    for _ in range(extra):
        pool = DETAILS[label] if rng.random() < 0.25 else CONTEXT
        sentence = _fill(rng.choice(pool), rng, values)
        if sentence in body:
            continue
        if rng.random() < 0.45:
            body.insert(0, sentence)
        else:
            body.append(sentence)
    if shape != "short" and rng.random() < 0.4:
        other = rng.choice(sorted(k for k in SIDE if k != label))
        body.append(rng.choice(SIDE_INTROS).format(rng.choice(SIDE[other])))
    register = rng.choices(REGISTERS, REGISTER_WEIGHTS)[0]
    if register == "angry":
        body.insert(0 if rng.random() < 0.4 else len(body), rng.choice(ANGRY))
    parts = body
    opening_p = {"short": 0.35, "medium": 0.6, "long": 0.8}[shape]
    if rng.random() < opening_p:
        parts = [_fill(rng.choice(OPENINGS), rng, values), *parts]
    if rng.random() < opening_p - 0.05:
        parts = [*parts, _fill(rng.choice(CLOSINGS), rng, values)]
    return _roughen(" ".join(parts), register, rng)


def _dedup_key(text: str) -> str:
    """Key under which two texts count as the same message (case, punctuation and emoji ignored)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def generate(seed: int = DEFAULT_SEED,
             class_counts: dict[str, tuple[int, int]] | None = None) -> dict[str, list[dict[str, str]]]:
    """Return ``{"train": rows, "test": rows}`` of ``{"text", "label"}`` dicts, deterministic in ``seed``.

    Texts are unique across both splits (ignoring case and punctuation) and have 3-60 words.
    """
    counts = CLASS_COUNTS if class_counts is None else class_counts
    unknown = sorted(set(counts) - set(CORE))
    if unknown:
        raise ValueError(f"unknown labels {unknown}; known labels are {sorted(CORE)}")
    rng = random.Random(seed)
    seen: set[str] = set()
    splits: dict[str, list[dict[str, str]]] = {"train": [], "test": []}
    for label, (n_train, n_test) in counts.items():
        texts: list[str] = []
        attempts = 0
        while len(texts) < n_train + n_test:
            attempts += 1
            if attempts > 50 * (n_train + n_test) + 1000:
                raise RuntimeError(f"could not compose {n_train + n_test} distinct {label!r} messages")
            text = compose(label, rng)
            key = _dedup_key(text)
            if not MIN_WORDS <= len(text.split()) <= MAX_WORDS or key in seen:
                continue
            seen.add(key)
            texts.append(text)
        rng.shuffle(texts)
        splits["test"].extend({"text": t, "label": label} for t in texts[:n_test])
        splits["train"].extend({"text": t, "label": label} for t in texts[n_test:])
    for rows in splits.values():
        rng.shuffle(rows)
    return splits


def write(out_dir: str | Path, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Generate the dataset and write ``train.jsonl`` and ``test.jsonl`` (UTF-8, one object a line)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, rows in generate(seed).items():
        path = out / f"{split}.jsonl"
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for row in rows:
                handle.write(json.dumps({"text": row["text"], "label": row["label"]}, ensure_ascii=False) + "\n")
        paths[split] = path
    return paths


def read_jsonl(path: str | Path) -> list[dict[str, str]]:
    """Read one split back as a list of dicts."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


BASELINE_SETTINGS: tuple[tuple[float, str | None], ...] = ((1.0, None), (1.0, "balanced"), (10.0, None),
                                                         (10.0, "balanced"))


def baseline(data_dir: str | Path,
             settings: Sequence[tuple[float, str | None]] = BASELINE_SETTINGS) -> str:
    """Fit TF-IDF + LogisticRegression(C, class_weight) on train; return per-class test F1 as Markdown.

    A quick proxy for how hard the small classes are; needs scikit-learn (the generator does not).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from threadpoolctl import threadpool_limits

    train, test = read_jsonl(Path(data_dir) / "train.jsonl"), read_jsonl(Path(data_dir) / "test.jsonl")
    labels = [label for label, _ in Counter(r["label"] for r in train).most_common()]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train = vectorizer.fit_transform([r["text"] for r in train])
    x_test = vectorizer.transform([r["text"] for r in test])
    y_train, y_test = [r["label"] for r in train], [r["label"] for r in test]
    train_counts, test_counts = Counter(y_train), Counter(y_test)
    columns = [f"C={c:g}, {w or 'unweighted'}" for c, w in settings]
    lines = ["| class | train | test | " + " | ".join(columns) + " |", "|---" * (3 + len(columns)) + "|"]
    results = []
    for c, weight in settings:
        with threadpool_limits(1):  # BLAS threads only slow this small problem down on a busy machine
            model = LogisticRegression(C=c, max_iter=3000, class_weight=weight).fit(x_train, y_train)
        predicted = model.predict(x_test)
        results.append((f1_score(y_test, predicted, labels=labels, average=None),
                        accuracy_score(y_test, predicted), f1_score(y_test, predicted, average="macro")))
    for i, label in enumerate(labels):
        cells = " | ".join(f"{r[0][i]:.2f}" for r in results)
        lines.append(f"| {label} | {train_counts[label]} | {test_counts[label]} | {cells} |")
    lines.append("| **accuracy** | | | " + " | ".join(f"{r[1]:.3f}" for r in results) + " |")
    lines.append("| **macro-F1** | | | " + " | ".join(f"{r[2]:.3f}" for r in results) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: write the splits, or print the baseline table for existing ones."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "demo"), help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--baseline", action="store_true",
                        help="print TF-IDF + LogisticRegression per-class F1 for the files in --out")
    args = parser.parse_args(argv)
    if args.baseline:
        print(baseline(args.out))
        return
    paths = write(args.out, args.seed)
    for path in paths.values():
        counts = Counter(r["label"] for r in read_jsonl(path))
        print(f"{path}: {sum(counts.values())} rows, " + ", ".join(f"{k}={v}" for k, v in counts.most_common()))


if __name__ == "__main__":
    main()
