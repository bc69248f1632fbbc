"""The "Escalation notice" response template in the five languages (the customer is told, in
their language, that a senior colleague is taking over), and four example automatic-escalation
rules, switched off: an administrator turns on the ones the team wants (docs/escalation.md)."""

from django.db import migrations

NOTICE = "Escalation notice"

TEXTS = {
    "en": (
        "So that your inquiry {reference} gets the attention it needs, I have passed it to a senior "
        "colleague, who will take it from here and contact you shortly. You do not need to repeat "
        "anything: they have the whole history in front of them."
    ),
    "ta": (
        "உங்கள் கோரிக்கை {reference} க்கு உரிய கவனம் கிடைக்க, அதை ஒரு மூத்த சக ஊழியரிடம் "
        "ஒப்படைத்துள்ளேன். அவர் இனி இதைக் கவனித்து விரைவில் உங்களைத் தொடர்புகொள்வார். எதையும் "
        "மீண்டும் சொல்ல வேண்டியதில்லை: முழு விவரமும் அவரிடம் உள்ளது."
    ),
    "fil": (
        "Para mabigyan ng tamang pansin ang inyong inquiry na {reference}, ipinasa ko na ito sa isang "
        "senior na kasamahan. Siya na ang hahawak nito at makikipag-ugnayan sa inyo sa lalong madaling "
        "panahon. Hindi na ninyo kailangang ulitin ang inyong kuwento: nasa kanya na ang buong detalye."
    ),
    "bn": (
        "আপনার অনুরোধ {reference} যাতে যথাযথ মনোযোগ পায়, তাই আমি এটি একজন অভিজ্ঞ সহকর্মীর কাছে "
        "পাঠিয়েছি। তিনি এখন থেকে বিষয়টি দেখবেন এবং শিগগিরই আপনার সঙ্গে যোগাযোগ করবেন। আপনাকে কিছু "
        "আবার বলতে হবে না: পুরো বিবরণ তাঁর কাছে আছে।"
    ),
    "hi": (
        "आपके अनुरोध {reference} पर पूरा ध्यान दिया जा सके, इसलिए मैंने इसे एक वरिष्ठ सहकर्मी को सौंप "
        "दिया है। अब वे इसे देखेंगे और जल्द ही आपसे संपर्क करेंगे। आपको कुछ भी दोबारा बताने की ज़रूरत "
        "नहीं है: पूरी जानकारी उनके पास है।"
    ),
}

RULES = [
    {"name": "First response breached", "trigger": "first_response_breached"},
    {"name": "Resolution breached", "trigger": "resolution_breached"},
    {"name": "Callback missed by 15 minutes", "trigger": "callback_missed", "grace_minutes": 15},
    {"name": "Three contacts without resolution", "trigger": "repeat_contacts", "contacts": 3},
]


def create(apps, schema_editor):
    ResponseTemplate = apps.get_model("inquiries", "ResponseTemplate")
    EscalationRule = apps.get_model("escalation", "EscalationRule")
    for language, body in TEXTS.items():
        ResponseTemplate.objects.get_or_create(name=NOTICE, language=language, defaults={"body": body})
    for rule in RULES:
        EscalationRule.objects.get_or_create(name=rule["name"], defaults={**rule, "active": False})


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0001_escalations_rules"),
        ("inquiries", "0011_default_authority_limits"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
