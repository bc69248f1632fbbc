"""The automatic customer updates as response templates in the five languages (the reminders
service picks the customer's language, else English; docs/reminders.md): "Order delayed" for an
order past its ship-by or deliver-by date, "Still working on it" for a customer who has heard
nothing for a while. A greeting and a closing are added when they are sent; staff may edit the
texts in the admin and use them like any other template."""

from django.db import migrations

ORDER_DELAYED = "Order delayed"
STILL_WORKING = "Still working on it"

TEXTS = {
    ORDER_DELAYED: {
        "en": (
            "We are sorry to tell you that your order {order_number} is running late and will not reach "
            "you by the date we gave you. We are working to get it to you as soon as we can, and we will "
            "let you know as soon as it is on its way. You do not need to do anything; if you have a "
            "question, just reply to this message (reference {reference})."
        ),
        "ta": (
            "உங்கள் ஆர்டர் {order_number} தாமதமாகியுள்ளது என்பதைத் தெரிவிக்க வருந்துகிறோம்; நாங்கள் "
            "குறிப்பிட்ட தேதிக்குள் அது உங்களை வந்தடையாது. அதை முடிந்தவரை விரைவில் உங்களிடம் சேர்க்க "
            "முயற்சி செய்து வருகிறோம்; அது அனுப்பப்பட்டவுடன் உங்களுக்குத் தெரிவிப்போம். நீங்கள் எதுவும் "
            "செய்ய வேண்டியதில்லை; ஏதேனும் கேள்வி இருந்தால், இந்தச் செய்திக்குப் பதில் அனுப்புங்கள் "
            "(குறிப்பு எண் {reference})."
        ),
        "fil": (
            "Ikinalulungkot naming ipaalam na naantala ang inyong order na {order_number} at hindi ito "
            "makararating sa inyo sa petsang ibinigay namin. Ginagawa namin ang lahat para maipadala ito "
            "sa inyo sa lalong madaling panahon, at sasabihan namin kayo kapag naipadala na ito. Wala "
            "kayong kailangang gawin; kung may tanong kayo, sumagot lang sa mensaheng ito "
            "(reference {reference})."
        ),
        "bn": (
            "দুঃখের সঙ্গে জানাচ্ছি যে আপনার অর্ডার {order_number} দেরি হচ্ছে এবং আমরা যে তারিখ দিয়েছিলাম "
            "তার মধ্যে এটি আপনার কাছে পৌঁছাবে না। যত তাড়াতাড়ি সম্ভব এটি আপনার কাছে পৌঁছে দেওয়ার চেষ্টা "
            "করছি, এবং পাঠানো হলেই আপনাকে জানাব। আপনাকে কিছু করতে হবে না; কোনো প্রশ্ন থাকলে এই বার্তার "
            "উত্তর দিন (রেফারেন্স {reference})।"
        ),
        "hi": (
            "हमें खेद है कि आपके ऑर्डर {order_number} में देरी हो रही है और यह हमारी बताई गई तारीख़ तक "
            "आप तक नहीं पहुँचेगा। हम इसे जल्द से जल्द आप तक पहुँचाने में लगे हैं, और इसके भेजे जाते ही "
            "आपको बताएँगे। आपको कुछ करने की ज़रूरत नहीं है; कोई सवाल हो तो बस इस संदेश का जवाब दें "
            "(संदर्भ {reference})।"
        ),
    },
    STILL_WORKING: {
        "en": (
            "We wanted to let you know that we are still working on your inquiry {reference}. We have not "
            "forgotten you, and we will write again as soon as we have news. If there is anything you "
            "would like to add, just reply to this message."
        ),
        "ta": (
            "உங்கள் கோரிக்கை {reference} குறித்து நாங்கள் இன்னும் செயல்பட்டு வருகிறோம் என்பதைத் தெரிவிக்க "
            "விரும்புகிறோம். உங்களை நாங்கள் மறக்கவில்லை; புதிய தகவல் கிடைத்தவுடன் மீண்டும் எழுதுவோம். "
            "நீங்கள் ஏதாவது சேர்க்க விரும்பினால், இந்தச் செய்திக்குப் பதில் அனுப்புங்கள்."
        ),
        "fil": (
            "Nais naming ipaalam na patuloy pa rin naming inaasikaso ang inyong inquiry na {reference}. "
            "Hindi namin kayo nakalimutan, at susulat kami muli sa sandaling may balita kami. Kung may "
            "nais kayong idagdag, sumagot lang sa mensaheng ito."
        ),
        "bn": (
            "আমরা আপনাকে জানাতে চাই যে আপনার অনুরোধ {reference} নিয়ে আমরা এখনও কাজ করছি। আমরা আপনাকে "
            "ভুলে যাইনি, এবং নতুন কোনো খবর পেলেই আবার লিখব। আপনি কিছু যোগ করতে চাইলে এই বার্তার উত্তর দিন।"
        ),
        "hi": (
            "हम आपको बताना चाहते हैं कि आपके अनुरोध {reference} पर हम अभी भी काम कर रहे हैं। हम आपको "
            "भूले नहीं हैं, और कोई नई जानकारी मिलते ही आपको फिर से लिखेंगे। अगर आप कुछ जोड़ना चाहें, तो "
            "बस इस संदेश का जवाब दें।"
        ),
    },
}


def create(apps, schema_editor):
    ResponseTemplate = apps.get_model("inquiries", "ResponseTemplate")
    for name, texts in TEXTS.items():
        for language, body in texts.items():
            ResponseTemplate.objects.get_or_create(name=name, language=language, defaults={"body": body})


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0014_default_follow_up_delays")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
