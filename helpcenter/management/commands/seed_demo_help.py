"""Demo help-center articles, published by senior1: five in English and the two most asked in
Tamil, Filipino, Bengali and Hindi. Through the services (drafted, then published, on each
article's timeline). Idempotent; refused under production settings, like the other demo seeds."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from fulfillment.actors import Actor
from helpcenter import services
from helpcenter.models import Article

#: (slug, category, language, title, Markdown body)
ARTICLES = [
    (
        "where-is-my-order",
        "order_status",
        "en",
        "Where is my order?",
        "Your confirmation email has your **order number** (it starts with FD). Once the order ships we "
        "email you the carrier and a tracking number.\n\n- *Placed* or *Confirmed*: we are preparing it.\n"
        "- *Shipped*: it is with the carrier; tracking updates within a day.\n- *Delivered*: the carrier "
        "says it arrived. If it did not, [write to us](../../contact/) within 7 days.",
    ),
    (
        "how-refunds-work",
        "billing",
        "en",
        "How refunds work",
        "We refund to the card or account you paid with. A refund usually appears on your statement "
        "within **five working days** of the email that confirms it. Part of an order can be refunded; "
        "the email says how much.",
    ),
    (
        "returns-and-replacements",
        "return",
        "en",
        "Returns and replacements",
        "You can return an item within **30 days** of delivery. Tell us the order number and what is "
        "wrong; if it arrived damaged, a photo helps. We send a replacement or refund it — your choice.",
    ),
    (
        "change-delivery-address",
        "account_change",
        "en",
        "Changing the delivery address",
        "We can change the address until the order ships. Write to us with the order number and the new "
        "address. After it ships, the carrier can sometimes redirect it: we will ask for you.",
    ),
    (
        "item-arrived-damaged",
        "complaint",
        "en",
        "An item arrived damaged",
        "We are sorry. Keep the packaging if you can, take a photo of the damage and [write to us]"
        "(../../contact/) with the order number. We usually send a replacement the same day.",
    ),
    (
        "where-is-my-order",
        "order_status",
        "ta",
        "என் ஆர்டர் எங்கே?",
        "உங்கள் உறுதிப்படுத்தல் மின்னஞ்சலில் **ஆர்டர் எண்** உள்ளது (FD என்று தொடங்கும்). ஆர்டர் அனுப்பப்பட்டதும் "
        "கூரியர் நிறுவனத்தின் பெயரையும் டிராக்கிங் எண்ணையும் மின்னஞ்சலில் அனுப்புவோம்.\n\n- *அனுப்பப்பட்டது*: "
        "கூரியரிடம் உள்ளது; ஒரு நாளுக்குள் டிராக்கிங் விவரம் தெரியும்.\n- *வழங்கப்பட்டது* என்று காட்டியும் "
        "கிடைக்கவில்லை என்றால், 7 நாட்களுக்குள் [எங்களுக்கு எழுதுங்கள்](../../contact/).",
    ),
    (
        "how-refunds-work",
        "billing",
        "ta",
        "ரீஃபண்ட் எப்படி வழங்கப்படுகிறது",
        "நீங்கள் பணம் செலுத்திய அதே அட்டை அல்லது கணக்கிற்கே ரீஃபண்ட் செய்கிறோம். உறுதிப்படுத்தும் மின்னஞ்சல் "
        "வந்ததிலிருந்து வழக்கமாக **ஐந்து வேலை நாட்களுக்குள்** அது உங்கள் கணக்கு அறிக்கையில் தெரியும்.",
    ),
    (
        "where-is-my-order",
        "order_status",
        "fil",
        "Nasaan na ang order ko?",
        "Nasa confirmation email ninyo ang **order number** (nagsisimula sa FD). Pagka-ship ng order, "
        "ipapadala namin sa email ang courier at tracking number.\n\n- *Shipped*: nasa courier na po; "
        "lalabas ang tracking sa loob ng isang araw.\n- Kung *Delivered* na pero hindi ninyo natanggap, "
        "[sumulat po kayo sa amin](../../contact/) sa loob ng 7 araw.",
    ),
    (
        "how-refunds-work",
        "billing",
        "fil",
        "Paano gumagana ang refund",
        "Ibinabalik namin ang bayad sa card o account na ginamit ninyo. Karaniwan itong lumalabas sa "
        "inyong statement sa loob ng **limang araw na may pasok** mula sa email na nagkukumpirma nito.",
    ),
    (
        "where-is-my-order",
        "order_status",
        "bn",
        "আমার অর্ডার কোথায়?",
        "আপনার কনফার্মেশন ইমেইলে **অর্ডার নম্বর** আছে (FD দিয়ে শুরু)। অর্ডার পাঠানো হলে আমরা ইমেইলে কুরিয়ারের "
        "নাম আর ট্র্যাকিং নম্বর জানিয়ে দিই।\n\n- *শিপড*: কুরিয়ারের কাছে আছে; এক দিনের মধ্যে ট্র্যাকিং দেখা "
        "যাবে।\n- *ডেলিভারড* দেখালেও না পেলে ৭ দিনের মধ্যে [আমাদের লিখুন](../../contact/)।",
    ),
    (
        "how-refunds-work",
        "billing",
        "bn",
        "রিফান্ড কীভাবে হয়",
        "আপনি যে কার্ড বা অ্যাকাউন্ট দিয়ে টাকা দিয়েছেন, সেখানেই রিফান্ড করা হয়। নিশ্চিতকরণের ইমেইলের পর "
        "সাধারণত **পাঁচ কর্মদিবসের মধ্যে** এটি আপনার স্টেটমেন্টে দেখা যায়।",
    ),
    (
        "where-is-my-order",
        "order_status",
        "hi",
        "मेरा ऑर्डर कहाँ है?",
        "आपके कन्फ़र्मेशन ईमेल में **ऑर्डर नंबर** है (FD से शुरू होता है)। ऑर्डर शिप होते ही हम ईमेल से कूरियर "
        "का नाम और ट्रैकिंग नंबर भेजते हैं।\n\n- *शिप्ड*: ऑर्डर कूरियर के पास है; एक दिन में ट्रैकिंग दिखने लगती "
        "है।\n- *डिलीवर्ड* दिखने पर भी न मिला हो, तो 7 दिनों के भीतर [हमें लिखें](../../contact/)।",
    ),
    (
        "how-refunds-work",
        "billing",
        "hi",
        "रिफ़ंड कैसे मिलता है",
        "जिस कार्ड या खाते से आपने भुगतान किया था, रिफ़ंड उसी में जाता है। कन्फ़र्मेशन ईमेल के बाद आम तौर पर "
        "**पाँच कार्यदिवसों के भीतर** यह आपके स्टेटमेंट में दिखाई देता है।",
    ),
]


class Command(BaseCommand):
    help = "Load demo help-center articles (published), in English and the four other languages."

    def add_arguments(self, parser):
        parser.add_argument("--i-know-this-is-not-production", action="store_true", dest="force")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo_help is refused under production settings (set DJANGO_DEBUG=1).")
        senior = get_user_model().objects.filter(username="senior1").first()
        if senior is None:
            raise CommandError("Run seed_demo first: it creates the demo staff.")
        actor = Actor.for_user(senior)
        made = 0
        with transaction.atomic():
            for slug, category, language, title, body in ARTICLES:
                if Article.objects.filter(slug=slug, language=language).exists():
                    continue
                article = services.article_create(
                    actor=actor, title=title, slug=slug, category=category, language=language, body=body
                )
                services.article_publish(actor=actor, article=article)
                made += 1
        self.stdout.write(self.style.SUCCESS(f"Demo help center ready: {made} articles published at /help/."))
