"""English phrasings."""
# ruff: noqa: E501  (a template is one line: it reads as the sentence it writes)

OPEN = (
    "{Hi|Hello|Hey} {there|team|folks}.",
    "{Honestly|To be honest|Frankly}, {here goes|where do I start|I'll keep it short}.",
    "{Quick|Some|A bit of} feedback {for you|from a long-time user|from our team}.",
    "{Well|So|OK}, {you asked|since you asked|here is my take}.",
    "{I have used it|We have been customers|I've been on the app} for {a few months|two years|a while now}.",
)
CLOSE_NEG = (
    "{Please|Kindly} {fix this|sort this out|look into it}.",
    "{Really|Pretty|Quite} {disappointed|frustrated|annoyed} {right now|to be honest|overall}.",
    "{Not|Hardly} what I {expected|signed up for|pay for}.",
    "{Thinking about|Considering|Seriously thinking about} {switching|leaving|cancelling}.",
)
CLOSE_POS = (
    "{Thanks|Thank you|Cheers}{!|, team!| so much.}",
    "{Keep it up|Keep up the good work|Keep doing what you do}{!|.}",
    "{Would|Will|Happy to} recommend {it |you |}to {friends|colleagues|my team}.",
)
CORE = {
    "billing": (
        "I was {charged|billed} twice {this month|for the same month|for one subscription}.",
        "{My|The last|Our} invoice {shows|has|included} a {charge|line item|fee} I {never agreed to|don't recognise|didn't sign up for}.",
        "{I got|We were|Still got} billed {after cancelling|after I cancelled|even though we cancelled} {my|our|the} {plan|subscription|account}.",
        "The {receipt|invoice|bill} {has|shows|lists} the wrong {company name|address|tax number} {again|every month|and nobody fixes it}.",
        "{My card|Our card|The company card} {was|got} charged {on the wrong day|before the renewal date|an amount I did not expect}.",
        "{Still waiting|Waiting|Two months waiting} for {a|my|the} refund {of the double charge|for the overcharge|you promised}.",
    ),
    "support_wait": (
        "{Support|Customer support|Your help desk} {took|needed|made me wait} {four days|over a week|ages} to {answer|reply|get back to me}.",
        "{I|We} {opened|filed|sent} a ticket {a week ago|days ago|last month} and {nobody has replied|still no answer|heard nothing}.",
        "{Waited|I waited|Was on hold} {forty minutes|an hour|forever} {on the phone|in the chat queue|for an agent} {and gave up|for nothing|before hanging up}.",
        "{Every|Each} time I {contact|write to|call} support {it takes days|I wait for hours|I get an automatic reply and nothing else}.",
        "{The chat|Live chat|The support chat} {says|promises} {a few minutes|a quick reply|fast answers} but {nobody ever comes|it takes hours|the wait is endless}.",
        "{Still|I am still|We're still} {waiting|waiting for someone|hoping} to {hear back|get a response|be contacted} {about my ticket|about the issue|from support}.",
    ),
    "bugs": (
        "The app {crashes|freezes|closes itself} {whenever|every time|as soon as} I {upload a photo|open the reports|try to export}.",
        "{There is a|I keep hitting a|Found a} bug {where|that means} {the save button does nothing|my changes get lost|the page goes blank}.",
        "{After|Since} the {last|latest|recent} update {it keeps crashing|half the features are broken|nothing syncs anymore}.",
        "{I get|We see|Keep getting} an error {message |}{every time|whenever|when} I {log in|submit the form|try to pay}.",
        "{The|Your} {export|search|dashboard} {is broken|doesn't work|returns an error} {again|on every browser|since Tuesday}.",
        "{Lost|I lost|We lost} {my|our} {data|work|settings} {because of a bug|when the app crashed|after a glitch}.",
    ),
    "onboarding": (
        "{Setting up|Getting started with|The setup of} {my|our|the} account was {confusing|a struggle|harder than it should be}.",
        "{The|Your} {onboarding|setup wizard|getting-started guide} {was clear|was really easy|took me five minutes}{ and|, and} {I was ready|we were live|everything made sense}.",
        "I {couldn't figure out|had no idea|struggled to learn} how to {invite my team|set up the first survey|connect my data} {at first|on my own|without help}.",
        "{The tutorial|The welcome tour|The first steps} {skipped|left out|didn't explain} {the basics|the important parts|how things connect}.",
        "{Onboarding|Getting set up|The first week} {was smooth|went smoothly|was painless} {thanks to|with the help of} {the guides|the welcome emails|the checklist}.",
        "{It took|We needed|I spent} {weeks|a long time|too many hours} to {get set up|learn the basics|understand the settings}.",
    ),
    "pricing": (
        "{It is|It's|The product is} {too expensive|overpriced|way too pricey} for {what it does|a small business|what we use}.",
        "{The|Your} {price|subscription|plan} {went up|increased|doubled} {again|this year|without warning} and {it's hard to justify|we can't afford it|I'm not happy}.",
        "{Cheaper|Less expensive|Better priced} {alternatives|competitors|tools} {exist|do the same|offer more} for {half the price|less money|a fraction of the cost}.",
        "{I wish|Please} {there were|offer|add} a {cheaper plan|smaller tier|discount} for {small teams|nonprofits|annual billing}.",
        "{Paying|We pay} {this much|so much|a premium} {every month|per seat|per user} {feels wrong|isn't worth it|is hard to swallow}.",
        "{Good|Decent|Fine} product {but|though} the {pricing|cost|price tag} is {steep|hard to justify|too high}.",
    ),
    "praise": (
        "{Great|Excellent|Fantastic} {service|product|experience}{, love it|, really|}.",
        "{I love|We love|Really love} {how easy it is to use|the product|working with you}.",
        "{Everything|It all|It} {just works|works perfectly|works great} {for us|every time|and saves me time}.",
        "{The team|Your staff|Everyone I dealt with} {is|was} {friendly|helpful|amazing} and {the product is great|it shows|I'm grateful}.",
        "{Best|The best|By far the best} {tool|app|service} {I have used|we have tried|in its category}.",
        "{So happy|Very happy|Really pleased} with {it|the service|the results} {so far|overall|every day}.",
    ),
    "performance": (
        "The {site|app|dashboard} is {often|very|painfully} slow {to load|in the mornings|these days}.",
        "{Pages|Reports|Screens} take {ages|forever|ten seconds or more} to {load|open|show up}.",
        "{It keeps|The app keeps|Everything keeps} {timing out|lagging|spinning} {when|whenever} I {open a report|search|switch pages}.",
        "{Performance|Speed|Loading time} {has gotten|got|became} {much worse|terrible|really bad} {lately|in the last weeks|since the last release}.",
        "{Better|Faster} performance would {mean a higher score|make a big difference|fix most of my complaints}.",
        "{The website|The app|The platform} {is sluggish|crawls|freezes for seconds} {even on fast wifi|on every device|at peak hours}.",
    ),
    "delivery": (
        "{My|The|Our} {order|package|delivery} {arrived|came|showed up} {a week late|days late|much later than promised}.",
        "{Delivery|Shipping|The courier} {took|needed} {two weeks|far too long|ten days} {for a simple order|to reach me|to arrive}.",
        "{The box|My parcel|The package} {arrived|came} {damaged|open|crushed} and {items were missing|the product was broken|nobody took responsibility}.",
        "{Still waiting|I'm still waiting|We keep waiting} for {my|the|our} {order|delivery|package} {to arrive|to ship|to show up}.",
        "{Tracking|The tracking page|The tracking number} {says delivered|hasn't updated in days|shows nothing} but {nothing arrived|the order is missing|I have no package}.",
        "{They|The courier|You} {missed|changed|cancelled} the delivery {window|date|slot} {twice|again|without telling me}.",
    ),
}
DETAIL = {
    "billing": (
        "{Nobody|No one} {could|was able to} explain {the extra charge|why|the amount} on {my statement|the invoice|the bill}.",
        "{My|Our} accountant {rejected|sent back|questioned} the {invoice|receipt|bill} {because of it|twice|last month}.",
        "{Please|Kindly} {refund|credit|reverse} the {duplicate|extra|wrong} charge.",
        "The {billing page|account page|payment section} {shows|lists} {a different amount|two payments|the wrong plan}.",
    ),
    "support_wait": (
        "{When|Once} {someone|they|an agent} finally {answered|replied|called back}, the {issue|problem|question} was {already solved|no longer relevant|still open}.",
        "{A quick|A simple|Any} {reply|answer|acknowledgement} would {have helped|go a long way|be enough}.",
        "{The ticket|My request|Our case} {is still open|was closed without an answer|got bounced between teams}.",
        "{Days|Weeks} {without|with no} {an answer|a reply|news} is {not acceptable|too long|frustrating} for a paying customer.",
    ),
    "bugs": (
        "I {reported|sent|filed} {it|the bug|screenshots} {twice|last week|to support} and it {still happens|is not fixed|came back}.",
        "{It happens|This happens|The crash happens} on {both|my} {phone and laptop|iPhone and Android|Chrome and Safari}.",
        "{Had to|I had to|We had to} {redo|retype|recreate} {everything|the whole report|an hour of work}.",
        "{Restarting|Reinstalling|Clearing the cache} {does not help|didn't fix it|changes nothing}.",
    ),
    "onboarding": (
        "{A short|A simple|A step-by-step} {video|guide|checklist} {would help|would have saved me hours|is all I needed}.",
        "{The docs|The help center|The guides} {explained|covered|walked me through} {every step|the setup|the basics} {well|clearly|nicely}.",
        "{Inviting|Adding} {my team|colleagues|new users} {was|felt} {confusing|tricky|easy}.",
        "{The first survey|My first project|Our first report} {was|went} {live|out|ready} {within an hour|on day one|after a week of trying}.",
    ),
    "pricing": (
        "{We only|I only|We really only} use {a couple of|a few|two} features.",
        "{For|With} {our|a} {team of five|small shop|tiny budget} {the cost adds up|it is too much|it hurts}.",
        "{Might|We may|I will probably} {downgrade|switch to a cheaper tool|cancel} {at renewal|next year|soon}.",
        "{The per-seat|The monthly|The annual} {price|fee|cost} {keeps going up|is the problem|is too high}.",
    ),
    "praise": (
        "{It saves|Saves} {me|us|our team} {hours|a lot of time|so much effort} {every week|each month|daily}.",
        "{Everyone|Our whole team|My colleagues} {uses|loves|relies on} it {now|every day|already}.",
        "{I|We} {recommended|suggested} it to {two friends|another team|a partner} {already|last week|this month}.",
        "{Simple|Clean|Beautiful} {design|interface|layout} and {everything works|it is reliable|no surprises}.",
    ),
    "performance": (
        "{Every|Each} {click|page|report} {takes|needs} {several|a few|five} seconds.",
        "{It|The app} {is|gets} {unusable|so slow|much slower} {at peak hours|on Monday mornings|with big reports}.",
        "{My|Our} {internet|connection|network} is {fine|fast|not the problem}{, other sites load instantly|, it's your servers|}.",
        "{It used to|It was|The app used to be} {fast|quick|snappy} {a few months ago|last year|before}.",
    ),
    "delivery": (
        "{The|Your} {delivery date|estimated date|promised date} {kept changing|was never met|moved three times}.",
        "{Nobody|No one} {called|told me|warned me} {about the delay|that it was late|when it would come}.",
        "{I needed|We needed|It was} {it|the order} {for a birthday|for the weekend|for an event} and it {didn't make it|came too late|arrived after}.",
        "{The courier|The driver|The delivery man} {left it|dropped it|put it} {outside in the rain|at the wrong door|with a neighbour}.",
    ),
}
