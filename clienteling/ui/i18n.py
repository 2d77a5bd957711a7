"""Every word the screens show, in Dutch and English, and numbers, money and dates as each language writes them.

- `tr(lang, key, **values)` picks and fills one entry of `STRINGS` (a key ending in `_one` is taken when `n` is 1).
- `error_text(lang, code, params)` words an error's code (a `DeviceError`, a `codes.CodeError`, a return
  refusal from the rules, or, as `centre_<code>`, a refusal of the centre): one entry `error_<code>` per code;
  a code without an entry is said with a general sentence in the same language, never in English.
- `money`, `number`, `decimal`, `local` and `ago` format with Babel's locale data for nl_NL and en_GB, in the
  store's time zone (Europe/Amsterdam).
- `colour`, `author`, `chat_channel`, `status` and `initials` word what the catalogue and the centre send as data.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_currency, format_decimal

from clienteling import rules

LOCAL_TIME = rules.store_zone()  # the stores' time zone (Europe/Amsterdam), as the rules keep it
LOCALES = {"nl": "nl_NL", "en": "en_GB"}  # the chain's two languages, as Babel names their locales
log = logging.getLogger(__name__)

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app_title": "Clienteling",
        # the figures (dashboard)
        "nav_figures": "Figures",
        "figures_title": "Figures",
        "figures_store": "Whole store",
        "figures_made": "Worked out by the centre {ago}",
        "figures_offline": "The centre cannot be reached: these are the figures it sent {ago}.",
        "figures_never": "No figures on this device yet: they come from the centre once it can be reached.",
        "figures_week_of": "Week of {day}",
        "figures_this_week": "This week",
        "figures_in_store": "Sales in store",
        "figures_credited": "Credited online",
        "figures_follow_ups": "Follow-ups done",
        "figures_served": "Customers served",
        "figures_chart": "Sales per week: in store and credited online orders",
        "figures_tap": "Tap a week for its numbers.",
        "figures_by_staff": "By colleague, week of {day}",
        "figures_name": "Name",
        # how it went (touchpoint ratings, the staff pulse, the manager's screen)
        "survey_button": "How did it go?",
        "survey_ask": "How did it go? Scan to tell us",
        "survey_hint": "One question on your phone, no account needed.",
        "survey_done": "Done",
        "pulse_question": "How did your shift go, {name}?",
        "pulse_anonymous": "Anonymous: only the store and the day are kept.",
        "pulse_1": "Very badly",
        "pulse_2": "Badly",
        "pulse_3": "All right",
        "pulse_4": "Well",
        "pulse_5": "Very well",
        "pulse_thanks": "Thank you. See you next time!",
        "error_centre_token_taken": "This rating link was already used for another visit: a new one is made next time.",
        "figures_tab_sales": "Sales",
        "figures_tab_experience": "How it went",
        "experience_score": "Customers' score this week",
        "experience_answers": "{n} answers",
        "experience_answers_one": "1 answer",
        "experience_low": "Low scores (1–2)",
        "experience_pulse": "Team pulse",
        "experience_pulse_few": "Shown from 3 answers",
        "experience_by_type": "By touchpoint",
        "experience_by_staff": "By colleague",
        "experience_chart": "Average score per week (1–5), with the team's pulse",
        "experience_table": "The weeks shown, in numbers",
        "experience_answers_head": "Answers",
        "experience_average": "Average",
        "experience_worst": "Lowest rated, in the customer's words",
        "experience_no_worst": "No low score with a comment in these weeks.",
        "touchpoint_consult": "Consult",
        "touchpoint_ship_to_home": "Ship to home",
        "touchpoint_return": "Return",
        "touchpoint_exchange": "Exchange",
        "touchpoint_pickup": "Pickup",
        "touchpoint_enrolment": "Enrolment",
        "sign_in_title": "Who is serving?",
        "sign_in_pick": "Pick your name",
        "pin": "PIN",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "no_staff": "No staff list on this device yet. Connect to the network and sync.",
        "role_associate": "Shop floor",
        "role_service_desk": "Service desk",
        "role_manager": "Manager",
        "scan_label": "Scan card or enter email",
        "scan_hint": "Card, email, name, product code or order number",
        "lookup_title": "Look up",
        "recent": "Last customers served",
        "no_recent": "Nobody served yet on this device.",
        "matches": "Customers matching '{text}'",
        "no_matches": "No customer matches '{text}'.",
        "not_found": "Not found",
        "nav_lookup": "Look up",
        "nav_stock": "Stock",
        "nav_returns": "Returns",
        "nav_attention": "Needs attention",
        "nav_settings": "Settings",
        "tier_basic": "Basic",
        "tier_silver": "Silver",
        "tier_gold": "Gold",
        "tier_platinum": "Platinum",
        "points": "{points} points",
        "home_store": "Home store {store}",
        "tab_notes": "Notes",
        "consent_title": "May be approached by",
        "channel_email": "email",
        "channel_sms": "SMS",
        "channel_whatsapp": "WhatsApp",
        "consent_none": "no channel",
        "consent_change": "Change",
        "consent_agrees": "She agrees",
        "consent_waiting": "not at the centre yet",
        "suggestions_title": "Worth showing now",
        "why_wishlist_here": "Wishlisted, in the right size, {n} in this store",
        "why_goes_with": "Goes with the {name} bought in {month}",
        "why_wishlist_elsewhere": "Wishlisted, in the right size: {n} in {city}, to ship home",
        "decline": "Not interested",
        "note_field": "A note or a tag",
        "add_note": "Add note",
        "add_tag": "Add as tag",
        "note_by": "{name}, {store}, {when}",
        "note_waiting": "Waiting to be sent",
        "no_notes": "No notes yet.",
        "glance_sizes": "Sizes",
        "size_tops": "tops {size}",
        "size_trousers": "trousers {size}",
        "size_shoes": "shoes {size}",
        "glance_likes": "Likes",
        "lifetime_spend": "Spent {money} in {n} orders",
        "lifetime_spend_one": "Spent {money} in 1 order",
        "last_purchase": "Last purchase {ago}",
        "last_visit": "Last bought in a store {ago}",
        "never_in_store": "Never bought in a store yet",
        "favourite_store": "Buys most at {store}",
        "preferred_associate": "Usually served by {name}",
        "key_birthday": "Birthday {date}",
        "key_anniversary": "Anniversary {date}",
        "key_other": "{label} {date}",
        "key_today": "today",
        "key_in_days": "in {n} days",
        "key_in_days_one": "tomorrow",
        "no_marketing": "No marketing",
        "marketing_ok": "Marketing allowed",
        "tab_wishlist": "Wishlist",
        "tab_orders": "Orders",
        "tab_chats": "Chats",
        "tab_timeline": "Timeline",
        "empty_wishlist": "Nothing on the wishlist.",
        "empty_orders": "No orders yet.",
        "empty_chats": "No chats with customer service.",
        "in_this_store": "{n} in this store",
        "elsewhere": "{n} in {city}, {km} km",
        "nowhere": "Out of stock everywhere",
        "ship_to_home": "Ship to home",
        "check_stock": "Stock",
        "order_status": "{status}",
        "lines": "{n} items",
        "total": "Total {money}",
        "placed_here": "Placed on this device",
        "waiting": "Waiting to be sent",
        "sent": "Sent",
        "attention": "Needs attention",
        "dismissed": "Dismissed",
        "stock_title": "Stock",
        "product_search": "Scan or search a product",
        "colour": "Colour",
        "size": "Size",
        "here": "This store",
        "dc": "Distribution centre",
        "available": "{n} available",
        "as_of": "counted {ago}",
        "from_system": "from {system}, {ago}",
        "system_webshop": "the webshop",
        "system_loyalty": "the loyalty system",
        "system_crm": "the CRM",
        "system_erp": "the ERP",
        "system_warehouse": "the warehouse system",
        "system_commercetools": "commercetools",
        "quantity": "Quantity",
        "fulfilling_store": "Ship from",
        "suggested": "nearest with stock",
        "address": "Address",
        "address_on_file": "Address on file",
        "new_address": "New address",
        "street": "Street",
        "house_number": "Number",
        "postcode": "Postcode",
        "city": "City",
        "review": "Review",
        "place_order": "Place order",
        "back": "Back",
        "order_placed": "Order placed",
        "order_number": "Order number {number}",
        "order_waiting": "Offline: the order waits and will be sent when the network is back.",
        "price_each": "{money} each",
        "bad_postcode": "'{postcode}' is not a Dutch postcode (like 1012 AB).",
        "fill_address": "Fill in street, number, postcode and city.",
        "returns_title": "Return an online order",
        "order_field": "Order number or scan the order's QR code",
        "find_order": "Find order",
        "return_qty": "Return",
        "line_left": "{n}× {price} bought, {left} can be returned",
        "reason": "Reason",
        "condition": "Condition",
        "refund": "Refund {money}",
        "confirm_return": "Confirm return",
        "return_receipt": "Return received",
        "return_number": "Return {number}",
        "return_waiting": "Offline: the return waits and will be sent when the network is back.",
        "choose_lines": "Choose at least one item to return.",
        "only_service_desk": "Returns are taken at the service desk.",
        "reason_too_small": "Too small",
        "reason_too_large": "Too large",
        "reason_not_as_pictured": "Not as pictured",
        "reason_damaged": "Damaged",
        "reason_changed_mind": "Changed mind",
        "reason_other": "Other",
        "condition_resellable": "Resellable",
        "condition_damaged": "Damaged",
        "online": "Online",
        "offline": "Offline",
        "not_synced": "Not synced yet",
        "last_sync": "synced {ago}",
        "waiting_n": "{n} waiting",
        "attention_n": "{n} need attention",
        "sync_now": "Sync now",
        "attention_title": "Needs attention",
        "no_attention": "Nothing needs attention.",
        "dismiss": "Dismiss",
        "settings_title": "Settings",
        "store": "Store",
        "central_url": "Central URL",
        "device_token": "Device token",
        "language": "Language",
        "cache_size": "Cache: {customers} customers, {mb} MB",
        "purge_now": "Purge now",
        "purged": "Forgot {n} customers not used for {days} days.",
        "save": "Save",
        "saved": "Saved. Restart the app to connect with the new settings.",
        "only_manager": "Only a manager can change the settings.",
        "just_now": "just now",
        "kind_ship_to_home": "Ship-to-home order",
        "kind_return": "Return",
        "kind_note": "Note",
        "kind_consent": "Consent change",
        "kind_order": "Order",
        "kind_chat": "Chat",
        "kind_visit": "Store visit",
        "channel_web": "web shop",
        "channel_app": "app",
        "channel_store": "store",
        "error": "Something went wrong: {detail}",
        "scan_camera": "Scan with camera",
        "camera_title": "Hold the card or label in view",
        "no_camera": "This device has no camera: type or scan into the field.",
        "camera_failed": "The camera could not be used; the scan field still works.",
        "subtotal": "Subtotal {money}",
        "shipping": "Shipping {money}",
        "shipping_free": "Shipping free (orders from {money})",
        "shipping_free_tier": "Shipping free ({tier} member)",
        "promoted_price": "{money} instead of {list_money}: {promotion} (−{percent} %)",
        "error_bought_in_store": "Bought in store: take it back at the till.",
        "error_not_delivered": "{status}: it can be returned once delivered.",
        "error_window_closed": "The {days}-day return window closed on {date}.",
        "error_nothing_left": "Already returned.",
        "error_return_waiting": "Already in a return that waits to be sent.",
        "error_too_many": "{left} left to return, not {requested}.",
        "error_unknown_line": "The order has no line {line_no}.",
        "offline_captive_portal": "Offline: the store Wi-Fi needs a sign-in",
        "offline_proxy": "Offline: the network's proxy needs a sign-in",
        "offline_network": "Offline: the network needs attention",
        "cache_refilling": "This device's data was damaged: it is being rebuilt from the centre. No order was lost.",
        "cache_rebuilt": "This device's data was damaged and has been rebuilt from the centre. No order was lost. Tap to close.",
        "journal_damaged_title": "This device cannot be used right now",
        "journal_damaged": "The file that keeps this device's orders, returns and notes is damaged: {problem}. It may"
        " hold orders that have not reached the centre yet, so the app does not start over it. Do not delete, move or"
        " replace the file: leave the device as it is and call support, and tell them where the file is: {path}",
        "journal_newer": "The file that keeps this device's orders, returns and notes was made by a newer version of"
        " the app. Update the app on this device. The file: {path}",
        "journal_problem_empty": "it is empty",
        "journal_problem_header": "its header is broken",
        "journal_problem_cut_short": "it has been cut short",
        "journal_problem_malformed": "parts of it are damaged",
        "journal_problem_schema": "it is not a file of this app",
        "journal_problem_missing": "it is missing, but its log is still there",
        "error_pin_form": "A PIN is {shortest} to {longest} digits. That did not count as a try.",
        "other_store": "Another store's customer ({store})",
        "search_local_only": "The centre cannot be reached: only this store's customers were searched.",
        "error_unknown": "Something went wrong. Try again; if it keeps happening, tell a manager.",
        "error_invalid_scan": "That is not a card, product or order code.",
        "error_invalid_code": "That code cannot be used.",
        "error_customer_not_found": "There is no customer {customer_id}.",
        "error_customer_not_found_offline": "Customer {customer_id} is not on this device, and the centre cannot be"
        " reached to look further.",
        "error_customer_not_found_card": "No customer has card number {card}.",
        "error_customer_not_found_card_offline": "No customer of this store has card number {card}, and the centre"
        " cannot be reached to look further.",
        "error_customer_not_found_email": "No customer has the email address {email}.",
        "error_customer_not_found_email_offline": "No customer of this store has the email address {email}, and the"
        " centre cannot be reached to look further.",
        "error_product_not_found": "No product has the code {code}.",
        "error_order_not_found": "There is no order {number}.",
        "error_order_not_found_offline": "Order {number} is not in this store's records, and the centre cannot be"
        " reached.",
        "error_no_address": "The customer has no address on file: enter one.",
        "error_out_of_stock": "Not enough stock of {sku} there: {available} available, {wanted} wanted.",
        "error_out_of_stock_everywhere": "No store and no DC has enough of {sku} right now.",
        "error_centre_unreachable": "The centre cannot be reached right now; the cache shows what it had.",
        "error_centre_refused": "The centre refused this device or sent an answer that cannot be read. Ask a manager"
        " to check the settings.",
        "error_cache_rebuilt": "This device's data was damaged and is being rebuilt from the centre. Try again in a"
        " moment.",
        "error_journal_damaged": "The file that keeps this device's orders, returns and notes is damaged ({problem})."
        " Do not delete it: call support.",
        "error_journal_newer": "The file that keeps this device's orders, returns and notes was made by a newer"
        " version of the app. Update the app on this device.",
        "error_not_configured": "This device has no centre set up yet.",
        "error_unknown_staff": "This person cannot sign in on this store's devices.",
        "error_staff_inactive": "{name} can no longer sign in in this store.",
        "error_no_staff_list": "This device has no staff list yet. Connect to the network and sync.",
        "error_staff_list_stale": (
            "This device cannot check PINs against its staff list: it was made for another device token. "
            "Connect to the network and sync; if that does not help, ask IT."
        ),
        "error_wrong_pin": "That PIN is not right. {tries_left} tries left before sign-in is locked for 5 minutes.",
        "error_wrong_pin_one": "That PIN is not right. 1 try left before sign-in is locked for 5 minutes.",
        "error_staff_locked": "Too many wrong PINs: try again in {minutes_left} minutes.",
        "error_staff_locked_one": "Too many wrong PINs: try again in 1 minute.",
        "error_return_not_allowed": "This cannot be returned.",
        "error_empty_scan": "Nothing was scanned.",
        "error_not_text": "What was scanned is not text.",
        "error_not_digits": "'{text}' is not a string of digits.",
        "error_card_serial_range": "Card serial {serial} is out of range.",
        "error_card_not_digits": "'{text}' is not a card number: a card number has only digits.",
        "error_card_length": "'{text}' is not a card number: it has {digits} digits, a card number has 13.",
        "error_card_not_loyalty": "'{text}' is not a loyalty card number: loyalty card numbers start with 2.",
        "error_card_check_digit": "'{text}' is not a valid card number: the check digit is {found}, it should be"
        " {expected}. The number may have been mistyped.",
        "error_card_is_product": "'{text}' is a product's code, not a loyalty card.",
        "error_card_url_no_number": "'{text}' is a web address without a card number at its end.",
        "error_gtin_not_digits": "'{text}' is not a product code: a GTIN has only digits.",
        "error_gtin_length": "'{text}' is not a product code: it has {digits} digits, a GTIN has 8, 12, 13 or 14.",
        "error_gtin_check_digit": "'{text}' is not a valid product code: the check digit is {found}, it should be"
        " {expected}.",
        "error_bad_url": "'{text}' is not a valid web address.",
        "error_link_not_url": "'{text}' is not a GS1 Digital Link: it is not a web address.",
        "error_link_no_gtin": "'{text}' is not a GS1 Digital Link: it has no /01/ followed by a GTIN.",
        "error_link_dangling": "'{text}' is not a valid GS1 Digital Link: '{segment}' has no value after it.",
        "error_link_bad_qualifier": "'{text}' is not a valid GS1 Digital Link: /{ai}/ cannot qualify a GTIN.",
        "error_element_string_bad": "'{text}' is not a GS1 element string.",
        "error_element_string_no_gtin": "'{text}' has no GTIN (application identifier 01).",
        "error_order_number_bad": "'{text}' is not an order number (such as ORD-K7QM-00001080).",
        "error_url_not_a_code": "'{text}' is a web address, not a card, product or order.",
        "error_card_file_type": "Cannot draw a card as '{name}': the file must end in .png or .svg.",
        "error_image_unreadable": "The image could not be read.",
        "error_no_decoder": "No barcode decoder is installed on this device.",
        "error_centre_refused_command": "The centre refused this (reason: {code}).",
        "error_centre_out_of_stock": "Not enough stock at {store} for {skus}.",
        "error_centre_unknown_customer": "The centre does not know this customer.",
        "error_centre_customer_not_found": "The centre does not know this customer.",
        "error_centre_unknown_store": "The centre does not know the store it would ship from.",
        "error_centre_unknown_sku": "The centre does not know product {sku}.",
        "error_centre_unknown_staff": "The centre does not know the staff member who made this.",
        "error_centre_implausible_time": "The centre does not accept this time: this device's clock may be wrong.",
        "error_centre_order_not_found": "The centre does not know this order.",
        "error_centre_not_an_online_order": "Bought in store: take it back at the till.",
        "error_centre_order_not_delivered": "The order has not been delivered yet.",
        "error_centre_return_window_closed": "The return window closed on {date}.",
        "error_centre_order_line_not_found": "The order has no line {line_no}.",
        "error_centre_return_quantity_exceeded": "Line {line_no}: only {returnable} left to return.",
        "error_centre_invalid_request": "The centre could not accept this as it was sent: call support.",
        "error_centre_idempotency_key_reused": "The centre could not accept this as it was sent: call support.",
        "colour_navy": "navy",
        "colour_black": "black",
        "colour_camel": "camel",
        "colour_olive": "olive",
        "colour_grey": "grey",
        "colour_white": "white",
        "colour_ecru": "ecru",
        "colour_burgundy": "burgundy",
        "colour_sand": "sand",
        "colour_forest_green": "forest green",
        "colour_rust": "rust",
        "colour_denim_blue": "denim blue",
        "colour_charcoal": "charcoal",
        "colour_cream": "cream",
        "colour_khaki": "khaki",
        "colour_mustard": "mustard",
        "author_customer": "Customer",
        "author_agent": "Customer service",
        "author_bot": "Bot",
        "chat_channel_web_chat": "web chat",
        "chat_channel_whatsapp": "WhatsApp",
        "chat_channel_email": "email",
        "chat_channel_phone": "phone",
        "chat_channel_social": "social media",
        "lines_one": "1 item",
        "attention_n_one": "1 needs attention",
        # exchanges at the desk
        "return_outcome": "Refund or exchange",
        "outcome_refund": "Refund",
        "outcome_exchange": "Exchange",
        "exchange_for": "She takes instead:",
        "exchange_no_options": "This style has no other size or colour.",
        "stock_here_n": "{n} here",
        "stock_nearest": "{place}: {n}",
        "stock_nowhere_else": "none elsewhere",
        "fulfilment_in_store": "Hand over now",
        "fulfilment_delivery": "Ship to her home",
        "exchange_gets_in_store": "She gets {item} now, from {place}.",
        "exchange_gets_delivery": "{item} is shipped to her home from {place}, free of charge.",
        "confirm_exchange": "Confirm exchange",
        "exchange_receipt": "Exchange done",
        "exchange_order": "Replacement order {number}",
        "exchange_waiting": "Offline: the exchange waits and will be sent when the network is back.",
        "exchange_refused_hint": "Nothing was returned or exchanged. Refund the item instead, or choose another size.",
        "refund_instead": "Refund instead",
        "kind_exchange": "Exchange",
        "error_choose_replacement": "Choose the size or colour she takes instead.",
        "error_same_item": "That is the same item: choose another size or colour.",
        "error_other_style": "{sku} is not style {style}: an exchange is for the same style.",
        "error_not_returned": "Line {line_no} does not go back, so it cannot be exchanged.",
        "error_unknown_sku": "There is no product {sku}.",
        "error_centre_exchange_line_not_returned": "Line {line_no} was not part of the return.",
        "error_centre_exchange_same_item": "That is the same item: choose another size or colour.",
        "error_centre_exchange_other_style": "{sku} is another style: an exchange is for the same style.",
        "error_centre_no_address": "The order has no shipping address to ship the exchange to.",
        # enrolment (issue 14)
        "kind_enrol": "Enrolment",
        "enrol": "Enrol a customer",
        "enrol_title": "Enrol a new customer",
        "enrol_offer": "No customer has the email address {email}. Enrol a new customer with it?",
        "enrol_offer_button": "Enrol with this email",
        "enrol_first_name": "First name",
        "enrol_last_name": "Last name",
        "enrol_email": "Email address",
        "enrol_phone": "Phone (optional)",
        "enrol_consent": "Agrees to offers by",
        "enrol_home_store": "Home store: {store}",
        "enrol_submit": "Enrol and issue the card",
        "enrol_problem_required": "Fill this in.",
        "enrol_problem_too_long": "At most 80 characters.",
        "enrol_problem_email_invalid": "This is not an email address (like name@example.nl).",
        "enrol_problem_phone_invalid": "This is not a phone number (like 06 12345678 or +32 470 12 34 56).",
        "enrol_known": "{name} is a member with this email address already: card {card}, since {since}.",
        "enrol_known_here": "{name} was enrolled on this device with this email address a moment ago.",
        "enrol_open_known": "Open the existing customer",
        "card_title": "Loyalty card",
        "card_provisional": "Card issued when the centre answers. She can be served already: her profile opens and "
        "notes are kept.",
        "card_enrolled": "Welcome, {name}! Scan the code with a phone to add the card to its wallet, or print it.",
        "card_merged": "Already a member since {since}: her card is {card}. The consent given here is applied to her.",
        "card_refused": "The centre did not enrol her: {reason}",
        "card_member": "Scan the code with a phone to add the card to its wallet, or print it.",
        "card_number": "Card number {number}",
        "card_save": "Save as picture",
        "card_saved": "Saved as {path}",
        "card_show": "Card",
        "card_open_profile": "Open the profile",
        "card_waiting_chip": "Card issued when the centre answers",
        "error_enrolment_invalid": "Some fields of the form need attention.",
        "error_already_enrolled": "This email address is a member's already.",
        "error_card_not_issued": "No card number yet: the centre has not answered the enrolment.",
        "error_enrolment_pending": "This waits until the centre has answered her enrolment (she is enrolled here "
        "offline).",
        "error_centre_email_already_enrolled": "This email address was a member's already: the customer enrolled "
        "here is that member now.",
        # outreach (issue 14)
        "message_action": "Send a message",
        "message_title": "Message to {name}",
        "message_channel": "Channel",
        "message_why_no_consent": "no consent for {channel}",
        "message_why_no_phone": "no phone number for {channel}",
        "message_why_no_email": "no email address",
        "message_why_unknown_channel": "not available",
        "message_none_offered": "She has not agreed to any channel with an address: no message can be sent.",
        "message_template": "Template",
        "message_language": "Language",
        "message_lang_nl": "In Dutch",
        "message_lang_en": "In English",
        "template_back_in_size": "Back in your size",
        "template_goes_with": "New in that goes with…",
        "template_thanks_visit": "Thanks for your visit",
        "template_follow_up": "Your follow-up",
        "message_text": "Message (you can change it)",
        "message_link": "Link: {link}",
        "message_send": "Send",
        "message_close": "Close",
        "message_sent": "Sent: it is in her chats.",
        "message_waiting": "Kept on this device: it is sent as soon as the centre can be reached.",
        "message_from": "{name} ({store})",
        "message_waiting_in_chat": "waiting to be sent",
        "kind_message": "Message",
        "chat_channel_sms": "SMS",
        "error_no_consent": "She has not agreed to messages by this channel.",
        "error_no_phone": "There is no phone number for her to send this to.",
        "error_no_email": "There is no email address for her to send this to.",
        "error_unknown_channel": "Messages cannot be sent by this channel.",
        "error_centre_no_consent": "The centre says she has not agreed to messages by this channel.",
        "error_centre_no_contact_address": "The centre has no phone number or email address for her on this channel.",
        "error_centre_unknown_template": "The centre does not know this message template.",
        "error_centre_conversation_not_found": "The centre found no conversation for this reply.",
        # follow-ups and my customers (issue 14)
        "why_follow_up_due": "Follow-up due today",
        "follow_up_reason_back_in_stock": "{item} is back in her size ({size}): tell her",
        "follow_up_reason_service_recovery_feedback": "She rated her {touchpoint} {score}/5: “{quote}”. Get back to her",
        "follow_up_reason_service_recovery_chat": "Unhappy in a {channel} message: “{quote}”. Get back to her first",
        "service_recovery": "Service first: she was unhappy",
        "follow_up_done_state": "Done",
        "follow_up_snoozed_until": "Snoozed until {date}",
        "follow_up_due_today": "Due today",
        "follow_up_overdue": "Overdue (due {date})",
        "follow_up_due_on": "Due {date}",
        "follow_up_store_list": "store's list",
        "follow_up_waiting": "not sent yet",
        "follow_up_mark_done": "Done",
        "follow_up_snooze": "Tomorrow",
        "follow_ups_today": "Today's follow-ups",
        "follow_ups_none_today": "Nothing due today.",
        "follow_ups_title": "Follow-ups",
        "follow_ups_none": "No follow-ups open.",
        "follow_up_add": "Add follow-up",
        "follow_up_text_label": "What to do",
        "follow_up_text_hint": "Tell her when the navy coat is back in M",
        "follow_up_for_store": "For the store's list (anyone may do it)",
        "follow_up_save": "Save follow-up",
        "due_today": "Today",
        "due_tomorrow": "Tomorrow",
        "due_next_week": "Next week",
        "due_pick": "Pick a day",
        "follow": "Follow",
        "following": "Following",
        "tell_her_when_back": "Tell her when it is back",
        "tell_her_text": "Tell her when the {item} is back in {size}",
        "my_customers": "My customers",
        "my_customers_none": "Customers you serve or follow on this device appear here.",
        "client_due": "{n} due",
        "client_open": "{n} open follow-up(s)",
        "client_served": "served {ago}",
        "kind_follow_up": "Follow-up",
        "kind_follow_up_state": "Follow-up done or snoozed",
        "error_follow_up_text_missing": "Write what to do first.",
        "error_centre_follow_up_not_found": "The centre does not know this follow-up (it may have been removed).",
        "error_centre_follow_up_id_taken": "The centre could not accept this as it was sent: call support.",
        # journey (issue 15): what she did last in any channel, and the stage of her journey
        "journey_today": "today",
        "journey_yesterday": "yesterday",
        "journey_on_day": "on {day}",
        "journey_a_product": "a product",
        "journey_channel_web": "on the webshop",
        "journey_channel_app": "in the app",
        "journey_channel_chatbot": "in the chatbot",
        "journey_channel_social": "on social media",
        "journey_channel_email": "in an email",
        "journey_channel_store": "in store",
        "journey_channel_other": "via {channel}",
        "journey_last_product_view": "Viewed {product} {where} {when}",
        "journey_last_wishlist_add": "Put {product} on the wishlist {when}",
        "journey_last_wishlist_remove": "Took {product} off the wishlist {when}",
        "journey_last_cart_add": "Put {product} in the basket {where} {when}",
        "journey_last_cart_remove": "Took {product} out of the basket {where} {when}",
        "journey_last_search": "Searched for “{text}” {where} {when}",
        "journey_last_search_plain": "Searched {where} {when}",
        "journey_last_chatbot_question": "Asked the chatbot {when}: “{text}”",
        "journey_last_chatbot_question_plain": "Asked the chatbot a question {when}",
        "journey_last_review": "Reviewed {product} {when}",
        "journey_last_social_share": "Shared {product} on social media {when}",
        "journey_last_email_click": "Clicked through to {product} from an email {when}",
        "journey_last_ordered": "Ordered {product} {where} {when}",
        "journey_last_bought_in_store": "Bought {product} in {store} {when}",
        "journey_last_returned": "Returned {product} {when}",
        "journey_last_wrote": "Wrote to customer service {where} {when}: {text}",
        "journey_last_other": "Was active online {where} {when}",
        "journey_stage_inspiration": "Inspiration",
        "journey_stage_information": "Information",
        "journey_stage_planning": "Planning",
        "journey_stage_buying": "Buying",
        "journey_stage_service": "Service",
        "journey_stage_sharing": "Sharing",
        "journey_why_open_conversation": "open question: {subject}",
        "journey_why_returned": "returned {product} {when}",
        "journey_why_reviewed": "reviewed {product}",
        "journey_why_shared": "shared {product}",
        "journey_why_in_cart": "{product} in the basket, not ordered",
        "journey_why_ordered": "ordered {product} {when}",
        "journey_why_wishlisted": "put {product} on the wishlist {when}",
        "journey_why_asked": "asked the chatbot about {product}",
        "journey_why_asked_plain": "asked the chatbot a question",
        "journey_why_searched": "searched for “{text}”",
        "journey_why_compared": "viewed {n} {category} this week, none bought",
        "journey_why_viewed_again": "viewed {product} {n} times this week, not bought",
        "journey_why_browsing": "viewed {n} products this month",
        "journey_why_browsing_one": "viewed 1 product this month",
        "journey_why_active_online": "active online this month",
        "journey_why_quiet": "nothing online in the last {days} days",
        "journey_category_coats": "coats",
        "journey_category_trousers": "trousers",
        "journey_category_knitwear": "knits",
        "journey_category_sneakers": "pairs of sneakers",
        "journey_service_first": "Service first: {reason}",
    },
    "nl": {
        "app_title": "Clienteling",
        # the figures (dashboard)
        "nav_figures": "Cijfers",
        "figures_title": "Cijfers",
        "figures_store": "Hele winkel",
        "figures_made": "Berekend door de centrale {ago}",
        "figures_offline": "De centrale is niet bereikbaar: dit zijn de cijfers die ze {ago} stuurde.",
        "figures_never": "Nog geen cijfers op dit apparaat: ze komen van de centrale zodra die bereikbaar is.",
        "figures_week_of": "Week van {day}",
        "figures_this_week": "Deze week",
        "figures_in_store": "Verkoop in de winkel",
        "figures_credited": "Online toegekend",
        "figures_follow_ups": "Opvolgingen gedaan",
        "figures_served": "Klanten geholpen",
        "figures_chart": "Verkoop per week: in de winkel en toegekende online bestellingen",
        "figures_tap": "Tik op een week voor de cijfers.",
        "figures_by_staff": "Per collega, week van {day}",
        "figures_name": "Naam",
        # hoe ging het (beoordelingen, de pols van het team, het scherm van de manager)
        "survey_button": "Hoe ging het?",
        "survey_ask": "Hoe ging het? Scan en laat het ons weten",
        "survey_hint": "Eén vraag op je telefoon, geen account nodig.",
        "survey_done": "Klaar",
        "pulse_question": "Hoe ging je dienst, {name}?",
        "pulse_anonymous": "Anoniem: alleen de winkel en de dag worden bewaard.",
        "pulse_1": "Heel slecht",
        "pulse_2": "Slecht",
        "pulse_3": "Redelijk",
        "pulse_4": "Goed",
        "pulse_5": "Heel goed",
        "pulse_thanks": "Dank je wel. Tot de volgende keer!",
        "error_centre_token_taken": "Deze beoordelingslink hoorde al bij een ander bezoek: de volgende keer komt er een nieuwe.",
        "figures_tab_sales": "Verkoop",
        "figures_tab_experience": "Hoe ging het",
        "experience_score": "Score van klanten deze week",
        "experience_answers": "{n} antwoorden",
        "experience_answers_one": "1 antwoord",
        "experience_low": "Lage scores (1–2)",
        "experience_pulse": "Pols van het team",
        "experience_pulse_few": "Zichtbaar vanaf 3 antwoorden",
        "experience_by_type": "Per contactmoment",
        "experience_by_staff": "Per collega",
        "experience_chart": "Gemiddelde score per week (1–5), met de pols van het team",
        "experience_table": "De getoonde weken in cijfers",
        "experience_answers_head": "Antwoorden",
        "experience_average": "Gemiddelde",
        "experience_worst": "Laagst beoordeeld, in de woorden van de klant",
        "experience_no_worst": "Geen lage score met toelichting in deze weken.",
        "touchpoint_consult": "Advies",
        "touchpoint_ship_to_home": "Thuisbezorgen",
        "touchpoint_return": "Retour",
        "touchpoint_exchange": "Ruil",
        "touchpoint_pickup": "Afhalen",
        "touchpoint_enrolment": "Aanmelding",
        "sign_in_title": "Wie helpt er?",
        "sign_in_pick": "Kies je naam",
        "pin": "Pincode",
        "sign_in": "Aanmelden",
        "sign_out": "Afmelden",
        "no_staff": "Nog geen medewerkerslijst op dit apparaat. Maak verbinding en synchroniseer.",
        "role_associate": "Winkelvloer",
        "role_service_desk": "Servicebalie",
        "role_manager": "Bedrijfsleider",
        "scan_label": "Scan pas of typ e-mail",
        "scan_hint": "Pas, e-mail, naam, productcode of ordernummer",
        "lookup_title": "Opzoeken",
        "recent": "Laatst geholpen klanten",
        "no_recent": "Nog niemand geholpen op dit apparaat.",
        "matches": "Klanten voor '{text}'",
        "no_matches": "Geen klant gevonden voor '{text}'.",
        "not_found": "Niet gevonden",
        "nav_lookup": "Opzoeken",
        "nav_stock": "Voorraad",
        "nav_returns": "Retouren",
        "nav_attention": "Aandacht nodig",
        "nav_settings": "Instellingen",
        "tier_basic": "Basis",
        "tier_silver": "Zilver",
        "tier_gold": "Goud",
        "tier_platinum": "Platina",
        "points": "{points} punten",
        "home_store": "Vaste winkel {store}",
        "tab_notes": "Notities",
        "consent_title": "Mag benaderd worden via",
        "channel_email": "e-mail",
        "channel_sms": "sms",
        "channel_whatsapp": "WhatsApp",
        "consent_none": "geen kanaal",
        "consent_change": "Wijzigen",
        "consent_agrees": "Ze stemt toe",
        "consent_waiting": "nog niet bij de centrale",
        "suggestions_title": "Nu laten zien",
        "why_wishlist_here": "Op de verlanglijst, in de juiste maat, {n} in deze winkel",
        "why_goes_with": "Past bij de {name}, gekocht in {month}",
        "why_wishlist_elsewhere": "Op de verlanglijst, in de juiste maat: {n} in {city}, thuis te bezorgen",
        "decline": "Geen interesse",
        "note_field": "Een notitie of label",
        "add_note": "Notitie toevoegen",
        "add_tag": "Als label toevoegen",
        "note_by": "{name}, {store}, {when}",
        "note_waiting": "Wacht op verzending",
        "no_notes": "Nog geen notities.",
        "glance_sizes": "Maten",
        "size_tops": "bovenstuk {size}",
        "size_trousers": "broek {size}",
        "size_shoes": "schoenen {size}",
        "glance_likes": "Houdt van",
        "lifetime_spend": "{money} besteed in {n} bestellingen",
        "lifetime_spend_one": "{money} besteed in 1 bestelling",
        "last_purchase": "Laatste aankoop {ago}",
        "last_visit": "Laatst in een winkel gekocht {ago}",
        "never_in_store": "Nog nooit in een winkel gekocht",
        "favourite_store": "Koopt het meest bij {store}",
        "preferred_associate": "Meestal geholpen door {name}",
        "key_birthday": "Verjaardag {date}",
        "key_anniversary": "Trouwdag {date}",
        "key_other": "{label} {date}",
        "key_today": "vandaag",
        "key_in_days": "over {n} dagen",
        "key_in_days_one": "morgen",
        "no_marketing": "Geen marketing",
        "marketing_ok": "Marketing toegestaan",
        "tab_wishlist": "Verlanglijst",
        "tab_orders": "Bestellingen",
        "tab_chats": "Chats",
        "tab_timeline": "Tijdlijn",
        "empty_wishlist": "Niets op de verlanglijst.",
        "empty_orders": "Nog geen bestellingen.",
        "empty_chats": "Geen chats met de klantenservice.",
        "in_this_store": "{n} in deze winkel",
        "elsewhere": "{n} in {city}, {km} km",
        "nowhere": "Nergens op voorraad",
        "ship_to_home": "Thuis laten bezorgen",
        "check_stock": "Voorraad",
        "order_status": "{status}",
        "lines": "{n} artikelen",
        "total": "Totaal {money}",
        "placed_here": "Op dit apparaat geplaatst",
        "waiting": "Wacht op verzenden",
        "sent": "Verzonden",
        "attention": "Aandacht nodig",
        "dismissed": "Afgehandeld",
        "stock_title": "Voorraad",
        "product_search": "Scan of zoek een product",
        "colour": "Kleur",
        "size": "Maat",
        "here": "Deze winkel",
        "dc": "Distributiecentrum",
        "available": "{n} beschikbaar",
        "as_of": "geteld {ago}",
        "from_system": "uit {system}, {ago}",
        "system_webshop": "de webshop",
        "system_loyalty": "het loyaltysysteem",
        "system_crm": "het CRM",
        "system_erp": "het ERP",
        "system_warehouse": "het magazijnsysteem",
        "system_commercetools": "commercetools",
        "quantity": "Aantal",
        "fulfilling_store": "Verzenden vanuit",
        "suggested": "dichtstbij met voorraad",
        "address": "Adres",
        "address_on_file": "Bekend adres",
        "new_address": "Nieuw adres",
        "street": "Straat",
        "house_number": "Huisnummer",
        "postcode": "Postcode",
        "city": "Plaats",
        "review": "Controleren",
        "place_order": "Bestelling plaatsen",
        "back": "Terug",
        "order_placed": "Bestelling geplaatst",
        "order_number": "Ordernummer {number}",
        "order_waiting": "Offline: de bestelling wacht en gaat mee zodra het netwerk terug is.",
        "price_each": "{money} per stuk",
        "bad_postcode": "'{postcode}' is geen Nederlandse postcode (zoals 1012 AB).",
        "fill_address": "Vul straat, huisnummer, postcode en plaats in.",
        "returns_title": "Online bestelling retour",
        "order_field": "Ordernummer of scan de QR-code van de order",
        "find_order": "Order zoeken",
        "return_qty": "Retour",
        "line_left": "{n}× {price} gekocht, {left} kan retour",
        "reason": "Reden",
        "condition": "Staat",
        "refund": "Terugbetaling {money}",
        "confirm_return": "Retour bevestigen",
        "return_receipt": "Retour ontvangen",
        "return_number": "Retour {number}",
        "return_waiting": "Offline: de retour wacht en gaat mee zodra het netwerk terug is.",
        "choose_lines": "Kies minstens één artikel om te retourneren.",
        "only_service_desk": "Retouren gaan via de servicebalie.",
        "reason_too_small": "Te klein",
        "reason_too_large": "Te groot",
        "reason_not_as_pictured": "Anders dan op de foto",
        "reason_damaged": "Beschadigd",
        "reason_changed_mind": "Bedacht",
        "reason_other": "Anders",
        "condition_resellable": "Verkoopbaar",
        "condition_damaged": "Beschadigd",
        "online": "Online",
        "offline": "Offline",
        "not_synced": "Nog niet gesynchroniseerd",
        "last_sync": "gesynchroniseerd {ago}",
        "waiting_n": "{n} wachtend",
        "attention_n": "{n} aandacht nodig",
        "sync_now": "Nu synchroniseren",
        "attention_title": "Aandacht nodig",
        "no_attention": "Niets vraagt aandacht.",
        "dismiss": "Afhandelen",
        "settings_title": "Instellingen",
        "store": "Winkel",
        "central_url": "Centrale URL",
        "device_token": "Apparaattoken",
        "language": "Taal",
        "cache_size": "Cache: {customers} klanten, {mb} MB",
        "purge_now": "Nu opschonen",
        "purged": "{n} klanten vergeten die {days} dagen niet gebruikt zijn.",
        "save": "Opslaan",
        "saved": "Opgeslagen. Start de app opnieuw om met de nieuwe instellingen te verbinden.",
        "only_manager": "Alleen een bedrijfsleider kan de instellingen wijzigen.",
        "just_now": "zojuist",
        "kind_ship_to_home": "Thuisbezorgorder",
        "kind_return": "Retour",
        "kind_note": "Notitie",
        "kind_consent": "Toestemming gewijzigd",
        "kind_order": "Bestelling",
        "kind_chat": "Chat",
        "kind_visit": "Winkelbezoek",
        "channel_web": "webshop",
        "channel_app": "app",
        "channel_store": "winkel",
        "error": "Er ging iets mis: {detail}",
        "scan_camera": "Scannen met camera",
        "camera_title": "Houd de pas of het label in beeld",
        "no_camera": "Dit apparaat heeft geen camera: typ of scan in het veld.",
        "camera_failed": "De camera werkt niet; het scanveld werkt nog wel.",
        "subtotal": "Subtotaal {money}",
        "shipping": "Verzendkosten {money}",
        "shipping_free": "Gratis verzending (bestellingen vanaf {money})",
        "shipping_free_tier": "Gratis verzending ({tier}-lid)",
        "promoted_price": "{money} in plaats van {list_money}: {promotion} (−{percent} %)",
        "error_bought_in_store": "In de winkel gekocht: terugnemen aan de kassa.",
        "error_not_delivered": "{status}: retour kan zodra het bezorgd is.",
        "error_window_closed": "De retourtermijn van {days} dagen is verlopen op {date}.",
        "error_nothing_left": "Al geretourneerd.",
        "error_return_waiting": "Zit al in een retour die wacht op verzenden.",
        "error_too_many": "Nog {left} kan retour, niet {requested}.",
        "error_unknown_line": "De order heeft geen regel {line_no}.",
        "offline_captive_portal": "Offline: de winkelwifi vraagt om aanmelding",
        "offline_proxy": "Offline: de proxy van het netwerk vraagt om aanmelding",
        "offline_network": "Offline: het netwerk vraagt aandacht",
        "cache_refilling": "De gegevens op dit apparaat waren beschadigd: ze worden opnieuw opgehaald bij de centrale."
        " Er is geen bestelling verloren gegaan.",
        "cache_rebuilt": "De gegevens op dit apparaat waren beschadigd en zijn opnieuw opgehaald bij de centrale. Er is"
        " geen bestelling verloren gegaan. Tik om te sluiten.",
        "journal_damaged_title": "Dit apparaat kan nu niet gebruikt worden",
        "journal_damaged": "Het bestand met de bestellingen, retouren en notities van dit apparaat is beschadigd:"
        " {problem}. Er kunnen bestellingen in staan die de centrale nog niet heeft, dus de app start er niet overheen."
        " Verwijder, verplaats of vervang het bestand niet: laat het apparaat zoals het is en bel support, en vertel"
        " waar het bestand staat: {path}",
        "journal_newer": "Het bestand met de bestellingen, retouren en notities van dit apparaat is gemaakt door een"
        " nieuwere versie van de app. Werk de app op dit apparaat bij. Het bestand: {path}",
        "journal_problem_empty": "het is leeg",
        "journal_problem_header": "het begin van het bestand is kapot",
        "journal_problem_cut_short": "het is afgekapt",
        "journal_problem_malformed": "delen ervan zijn beschadigd",
        "journal_problem_schema": "het is geen bestand van deze app",
        "journal_problem_missing": "het ontbreekt, maar het logbestand ervan staat er nog",
        "error_pin_form": "Een pincode is {shortest} tot {longest} cijfers. Dit telde niet als poging.",
        "other_store": "Klant van een andere winkel ({store})",
        "search_local_only": "De centrale is niet bereikbaar: alleen de klanten van deze winkel zijn doorzocht.",
        "error_unknown": "Er ging iets mis. Probeer het opnieuw; blijft het misgaan, meld het dan aan een"
        " bedrijfsleider.",
        "error_invalid_scan": "Dat is geen pas-, product- of ordercode.",
        "error_invalid_code": "Die code is niet bruikbaar.",
        "error_customer_not_found": "Er is geen klant {customer_id}.",
        "error_customer_not_found_offline": "Klant {customer_id} staat niet op dit apparaat, en de centrale is niet"
        " bereikbaar om verder te zoeken.",
        "error_customer_not_found_card": "Geen klant heeft pasnummer {card}.",
        "error_customer_not_found_card_offline": "Geen klant van deze winkel heeft pasnummer {card}, en de centrale is"
        " niet bereikbaar om verder te zoeken.",
        "error_customer_not_found_email": "Geen klant heeft het e-mailadres {email}.",
        "error_customer_not_found_email_offline": "Geen klant van deze winkel heeft het e-mailadres {email}, en de"
        " centrale is niet bereikbaar om verder te zoeken.",
        "error_product_not_found": "Geen product heeft de code {code}.",
        "error_order_not_found": "Er is geen order {number}.",
        "error_order_not_found_offline": "Order {number} staat niet in de gegevens van deze winkel, en de centrale is"
        " niet bereikbaar.",
        "error_no_address": "De klant heeft geen bekend adres: vul er een in.",
        "error_out_of_stock": "Niet genoeg voorraad van {sku} daar: {available} beschikbaar, {wanted} gevraagd.",
        "error_out_of_stock_everywhere": "Geen winkel en geen distributiecentrum heeft nu genoeg van {sku}.",
        "error_centre_unreachable": "De centrale is nu niet bereikbaar; de cache toont wat er was.",
        "error_centre_refused": "De centrale weigert dit apparaat of stuurde een onleesbaar antwoord. Vraag een"
        " bedrijfsleider de instellingen te controleren.",
        "error_cache_rebuilt": "De gegevens op dit apparaat waren beschadigd en worden opnieuw opgehaald bij de"
        " centrale. Probeer het zo opnieuw.",
        "error_journal_damaged": "Het bestand met de bestellingen, retouren en notities van dit apparaat is"
        " beschadigd ({problem}). Verwijder het niet: bel support.",
        "error_journal_newer": "Het bestand met de bestellingen, retouren en notities van dit apparaat is gemaakt"
        " door een nieuwere versie van de app. Werk de app op dit apparaat bij.",
        "error_not_configured": "Dit apparaat heeft nog geen centrale ingesteld.",
        "error_unknown_staff": "Deze persoon kan zich niet aanmelden op de apparaten van deze winkel.",
        "error_staff_inactive": "{name} kan zich niet meer aanmelden in deze winkel.",
        "error_no_staff_list": "Dit apparaat heeft nog geen medewerkerslijst. Maak verbinding en synchroniseer.",
        "error_staff_list_stale": (
            "Dit apparaat kan geen pincodes controleren met zijn medewerkerslijst: die is voor een ander apparaattoken"
            " gemaakt. Maak verbinding en synchroniseer; helpt dat niet, vraag dan IT."
        ),
        "error_wrong_pin": "Die pincode klopt niet. Nog {tries_left} pogingen voordat aanmelden 5 minuten"
        " geblokkeerd is.",
        "error_wrong_pin_one": "Die pincode klopt niet. Nog 1 poging voordat aanmelden 5 minuten geblokkeerd is.",
        "error_staff_locked": "Te vaak een verkeerde pincode: probeer het over {minutes_left} minuten opnieuw.",
        "error_staff_locked_one": "Te vaak een verkeerde pincode: probeer het over 1 minuut opnieuw.",
        "error_return_not_allowed": "Dit kan niet retour.",
        "error_empty_scan": "Er is niets gescand.",
        "error_not_text": "Wat er gescand is, is geen tekst.",
        "error_not_digits": "'{text}' bestaat niet alleen uit cijfers.",
        "error_card_serial_range": "Volgnummer {serial} valt buiten het bereik van de passen.",
        "error_card_not_digits": "'{text}' is geen pasnummer: een pasnummer heeft alleen cijfers.",
        "error_card_length": "'{text}' is geen pasnummer: het heeft {digits} cijfers, een pasnummer heeft er 13.",
        "error_card_not_loyalty": "'{text}' is geen klantenpasnummer: klantenpasnummers beginnen met 2.",
        "error_card_check_digit": "'{text}' is geen geldig pasnummer: het controlecijfer is {found}, dat moet"
        " {expected} zijn. Misschien is het nummer verkeerd getypt.",
        "error_card_is_product": "'{text}' is de code van een product, geen klantenpas.",
        "error_card_url_no_number": "'{text}' is een webadres zonder pasnummer aan het eind.",
        "error_gtin_not_digits": "'{text}' is geen productcode: een GTIN heeft alleen cijfers.",
        "error_gtin_length": "'{text}' is geen productcode: het heeft {digits} cijfers, een GTIN heeft er 8, 12, 13"
        " of 14.",
        "error_gtin_check_digit": "'{text}' is geen geldige productcode: het controlecijfer is {found}, dat moet"
        " {expected} zijn.",
        "error_bad_url": "'{text}' is geen geldig webadres.",
        "error_link_not_url": "'{text}' is geen GS1 Digital Link: het is geen webadres.",
        "error_link_no_gtin": "'{text}' is geen GS1 Digital Link: er staat geen /01/ met een GTIN in.",
        "error_link_dangling": "'{text}' is geen geldige GS1 Digital Link: na '{segment}' komt geen waarde.",
        "error_link_bad_qualifier": "'{text}' is geen geldige GS1 Digital Link: /{ai}/ kan geen GTIN nader bepalen.",
        "error_element_string_bad": "'{text}' is geen GS1-elementstring.",
        "error_element_string_no_gtin": "'{text}' heeft geen GTIN (identificatie 01).",
        "error_order_number_bad": "'{text}' is geen ordernummer (zoals ORD-K7QM-00001080).",
        "error_url_not_a_code": "'{text}' is een webadres, geen pas, product of order.",
        "error_card_file_type": "Kan geen pas tekenen als '{name}': het bestand moet eindigen op .png of .svg.",
        "error_image_unreadable": "De afbeelding kon niet gelezen worden.",
        "error_no_decoder": "Er is geen barcodelezer geïnstalleerd op dit apparaat.",
        "error_centre_refused_command": "De centrale weigerde dit (reden: {code}).",
        "error_centre_out_of_stock": "Niet genoeg voorraad in {store} voor {skus}.",
        "error_centre_unknown_customer": "De centrale kent deze klant niet.",
        "error_centre_customer_not_found": "De centrale kent deze klant niet.",
        "error_centre_unknown_store": "De centrale kent de winkel niet waarvandaan verzonden zou worden.",
        "error_centre_unknown_sku": "De centrale kent product {sku} niet.",
        "error_centre_unknown_staff": "De centrale kent de medewerker niet die dit maakte.",
        "error_centre_implausible_time": "De centrale neemt deze tijd niet aan: de klok van dit apparaat staat mogelijk verkeerd.",
        "error_centre_order_not_found": "De centrale kent deze order niet.",
        "error_centre_not_an_online_order": "In de winkel gekocht: terugnemen aan de kassa.",
        "error_centre_order_not_delivered": "De order is nog niet bezorgd.",
        "error_centre_return_window_closed": "De retourtermijn is verlopen op {date}.",
        "error_centre_order_line_not_found": "De order heeft geen regel {line_no}.",
        "error_centre_return_quantity_exceeded": "Regel {line_no}: er kan nog maar {returnable} retour.",
        "error_centre_invalid_request": "De centrale kon dit niet aannemen zoals het verstuurd is: bel support.",
        "error_centre_idempotency_key_reused": "De centrale kon dit niet aannemen zoals het verstuurd is: bel support.",
        "colour_navy": "marineblauw",
        "colour_black": "zwart",
        "colour_camel": "camel",
        "colour_olive": "olijfgroen",
        "colour_grey": "grijs",
        "colour_white": "wit",
        "colour_ecru": "ecru",
        "colour_burgundy": "bordeauxrood",
        "colour_sand": "zand",
        "colour_forest_green": "bosgroen",
        "colour_rust": "roestbruin",
        "colour_denim_blue": "denimblauw",
        "colour_charcoal": "antraciet",
        "colour_cream": "crème",
        "colour_khaki": "kaki",
        "colour_mustard": "mosterdgeel",
        "author_customer": "Klant",
        "author_agent": "Klantenservice",
        "author_bot": "Chatbot",
        "chat_channel_web_chat": "webchat",
        "chat_channel_whatsapp": "WhatsApp",
        "chat_channel_email": "e-mail",
        "chat_channel_phone": "telefoon",
        "chat_channel_social": "sociale media",
        "lines_one": "1 artikel",
        "attention_n_one": "1 aandacht nodig",
        # exchanges at the desk
        "return_outcome": "Terugbetalen of ruilen",
        "outcome_refund": "Terugbetalen",
        "outcome_exchange": "Ruilen",
        "exchange_for": "Ze neemt ervoor in de plaats:",
        "exchange_no_options": "Dit model heeft geen andere maat of kleur.",
        "stock_here_n": "{n} hier",
        "stock_nearest": "{n} in {place}",
        "stock_nowhere_else": "nergens anders",
        "fulfilment_in_store": "Nu meegeven",
        "fulfilment_delivery": "Thuis laten bezorgen",
        "exchange_gets_in_store": "Ze krijgt {item} nu mee, uit {place}.",
        "exchange_gets_delivery": "{item} wordt gratis thuisbezorgd vanuit {place}.",
        "confirm_exchange": "Ruil bevestigen",
        "exchange_receipt": "Ruil gedaan",
        "exchange_order": "Vervangende order {number}",
        "exchange_waiting": "Offline: de ruil wacht en gaat mee zodra het netwerk terug is.",
        "exchange_refused_hint": "Er is niets geretourneerd of geruild. Betaal het artikel terug, of kies een andere maat.",
        "refund_instead": "Toch terugbetalen",
        "kind_exchange": "Ruil",
        "error_choose_replacement": "Kies de maat of kleur die ze ervoor in de plaats neemt.",
        "error_same_item": "Dat is hetzelfde artikel: kies een andere maat of kleur.",
        "error_other_style": "{sku} is geen {style}: ruilen kan alleen binnen hetzelfde model.",
        "error_not_returned": "Regel {line_no} gaat niet retour, dus ruilen kan niet.",
        "error_unknown_sku": "Er is geen product {sku}.",
        "error_centre_exchange_line_not_returned": "Regel {line_no} hoorde niet bij de retour.",
        "error_centre_exchange_same_item": "Dat is hetzelfde artikel: kies een andere maat of kleur.",
        "error_centre_exchange_other_style": "{sku} is een ander model: ruilen kan alleen binnen hetzelfde model.",
        "error_centre_no_address": "De order heeft geen afleveradres om de ruil naartoe te sturen.",
        # enrolment (issue 14)
        "kind_enrol": "Inschrijving",
        "enrol": "Klant inschrijven",
        "enrol_title": "Nieuwe klant inschrijven",
        "enrol_offer": "Geen klant heeft het e-mailadres {email}. Een nieuwe klant inschrijven met dit adres?",
        "enrol_offer_button": "Inschrijven met dit e-mailadres",
        "enrol_first_name": "Voornaam",
        "enrol_last_name": "Achternaam",
        "enrol_email": "E-mailadres",
        "enrol_phone": "Telefoon (niet verplicht)",
        "enrol_consent": "Wil aanbiedingen ontvangen via",
        "enrol_home_store": "Vaste winkel: {store}",
        "enrol_submit": "Inschrijven en pas uitgeven",
        "enrol_problem_required": "Vul dit in.",
        "enrol_problem_too_long": "Hoogstens 80 tekens.",
        "enrol_problem_email_invalid": "Dit is geen e-mailadres (zoals naam@voorbeeld.nl).",
        "enrol_problem_phone_invalid": "Dit is geen telefoonnummer (zoals 06 12345678 of +32 470 12 34 56).",
        "enrol_known": "{name} is al lid met dit e-mailadres: pas {card}, sinds {since}.",
        "enrol_known_here": "{name} is zojuist op dit apparaat ingeschreven met dit e-mailadres.",
        "enrol_open_known": "Bestaande klant openen",
        "card_title": "Klantenpas",
        "card_provisional": "De pas wordt uitgegeven zodra de centrale antwoordt. Je kunt haar al helpen: haar profiel "
        "opent en notities worden bewaard.",
        "card_enrolled": "Welkom, {name}! Scan de code met een telefoon om de pas in de wallet te zetten, of print hem.",
        "card_merged": "Al lid sinds {since}: haar pas is {card}. De toestemming die hier is gegeven, geldt nu voor haar.",
        "card_refused": "De centrale heeft haar niet ingeschreven: {reason}",
        "card_member": "Scan de code met een telefoon om de pas in de wallet te zetten, of print hem.",
        "card_number": "Pasnummer {number}",
        "card_save": "Opslaan als afbeelding",
        "card_saved": "Opgeslagen als {path}",
        "card_show": "Pas",
        "card_open_profile": "Profiel openen",
        "card_waiting_chip": "Pas volgt zodra de centrale antwoordt",
        "error_enrolment_invalid": "Een paar velden van het formulier kloppen nog niet.",
        "error_already_enrolled": "Dit e-mailadres is al van een lid.",
        "error_card_not_issued": "Nog geen pasnummer: de centrale heeft de inschrijving nog niet beantwoord.",
        "error_enrolment_pending": "Dit wacht tot de centrale haar inschrijving heeft beantwoord (ze is hier offline "
        "ingeschreven).",
        "error_centre_email_already_enrolled": "Dit e-mailadres was al van een lid: de klant die hier is "
        "ingeschreven, is nu dat lid.",
        # outreach (issue 14)
        "message_action": "Stuur een bericht",
        "message_title": "Bericht aan {name}",
        "message_channel": "Kanaal",
        "message_why_no_consent": "geen toestemming voor {channel}",
        "message_why_no_phone": "geen telefoonnummer voor {channel}",
        "message_why_no_email": "geen e-mailadres",
        "message_why_unknown_channel": "niet beschikbaar",
        "message_none_offered": "Ze heeft voor geen enkel kanaal met een adres toestemming gegeven: er kan geen bericht "
        "worden verstuurd.",
        "message_template": "Sjabloon",
        "message_language": "Taal",
        "message_lang_nl": "In het Nederlands",
        "message_lang_en": "In het Engels",
        "template_back_in_size": "Weer in je maat",
        "template_goes_with": "Nieuw binnen dat past bij…",
        "template_thanks_visit": "Bedankt voor je bezoek",
        "template_follow_up": "Even bijpraten",
        "message_text": "Bericht (je kunt het aanpassen)",
        "message_link": "Link: {link}",
        "message_send": "Versturen",
        "message_close": "Sluiten",
        "message_sent": "Verstuurd: het staat in haar chats.",
        "message_waiting": "Bewaard op dit apparaat: het gaat zodra de centrale bereikbaar is.",
        "message_from": "{name} ({store})",
        "message_waiting_in_chat": "wacht op verzending",
        "kind_message": "Bericht",
        "chat_channel_sms": "sms",
        "error_no_consent": "Ze heeft geen toestemming gegeven voor berichten via dit kanaal.",
        "error_no_phone": "Er is geen telefoonnummer van haar om dit naar te sturen.",
        "error_no_email": "Er is geen e-mailadres van haar om dit naar te sturen.",
        "error_unknown_channel": "Via dit kanaal kunnen geen berichten worden verstuurd.",
        "error_centre_no_consent": "Volgens de centrale heeft ze geen toestemming gegeven voor dit kanaal.",
        "error_centre_no_contact_address": "De centrale heeft geen telefoonnummer of e-mailadres van haar voor dit kanaal.",
        "error_centre_unknown_template": "De centrale kent dit berichtsjabloon niet.",
        "error_centre_conversation_not_found": "De centrale vond geen gesprek bij dit antwoord.",
        # follow-ups and my customers (issue 14)
        "why_follow_up_due": "Opvolging staat vandaag gepland",
        "follow_up_reason_back_in_stock": "{item} is terug in haar maat ({size}): laat het haar weten",
        "follow_up_reason_service_recovery_feedback": "Ze gaf haar {touchpoint} een {score}/5: “{quote}”. Neem contact met haar op",
        "follow_up_reason_service_recovery_chat": "Ontevreden in een {channel}-bericht: “{quote}”. Neem eerst contact met haar op",
        "service_recovery": "Eerst service: ze was ontevreden",
        "follow_up_done_state": "Gedaan",
        "follow_up_snoozed_until": "Uitgesteld tot {date}",
        "follow_up_due_today": "Vandaag",
        "follow_up_overdue": "Te laat (gepland op {date})",
        "follow_up_due_on": "Op {date}",
        "follow_up_store_list": "lijst van de winkel",
        "follow_up_waiting": "nog niet verzonden",
        "follow_up_mark_done": "Gedaan",
        "follow_up_snooze": "Morgen",
        "follow_ups_today": "Opvolgingen voor vandaag",
        "follow_ups_none_today": "Vandaag staat er niets gepland.",
        "follow_ups_title": "Opvolgingen",
        "follow_ups_none": "Geen open opvolgingen.",
        "follow_up_add": "Opvolging toevoegen",
        "follow_up_text_label": "Wat moet er gebeuren",
        "follow_up_text_hint": "Laat haar weten wanneer de marineblauwe jas weer in M is",
        "follow_up_for_store": "Voor de lijst van de winkel (iedereen mag het doen)",
        "follow_up_save": "Opvolging bewaren",
        "due_today": "Vandaag",
        "due_tomorrow": "Morgen",
        "due_next_week": "Volgende week",
        "due_pick": "Kies een dag",
        "follow": "Volgen",
        "following": "Gevolgd",
        "tell_her_when_back": "Laat haar weten wanneer het terug is",
        "tell_her_text": "Laat haar weten wanneer de {item} weer in {size} is",
        "my_customers": "Mijn klanten",
        "my_customers_none": "Klanten die je op dit apparaat helpt of volgt, staan hier.",
        "client_due": "{n} gepland",
        "client_open": "{n} open opvolging(en)",
        "client_served": "geholpen {ago}",
        "kind_follow_up": "Opvolging",
        "kind_follow_up_state": "Opvolging gedaan of uitgesteld",
        "error_follow_up_text_missing": "Schrijf eerst wat er moet gebeuren.",
        "error_centre_follow_up_not_found": "De centrale kent deze opvolging niet (misschien is ze verwijderd).",
        "error_centre_follow_up_id_taken": "De centrale kon dit niet aannemen zoals het verzonden is: bel support.",
        # journey (issue 15): what she did last in any channel, and the stage of her journey
        "journey_today": "vandaag",
        "journey_yesterday": "gisteren",
        "journey_on_day": "op {day}",
        "journey_a_product": "een product",
        "journey_channel_web": "in de webshop",
        "journey_channel_app": "in de app",
        "journey_channel_chatbot": "in de chatbot",
        "journey_channel_social": "op sociale media",
        "journey_channel_email": "in een e-mail",
        "journey_channel_store": "in de winkel",
        "journey_channel_other": "via {channel}",
        "journey_last_product_view": "Bekeek {when} {product} {where}",
        "journey_last_wishlist_add": "Zette {when} {product} op de verlanglijst",
        "journey_last_wishlist_remove": "Haalde {when} {product} van de verlanglijst",
        "journey_last_cart_add": "Legde {when} {product} in het winkelmandje {where}",
        "journey_last_cart_remove": "Haalde {when} {product} uit het winkelmandje {where}",
        "journey_last_search": "Zocht {when} naar “{text}” {where}",
        "journey_last_search_plain": "Zocht {when} iets {where}",
        "journey_last_chatbot_question": "Vroeg {when} aan de chatbot: “{text}”",
        "journey_last_chatbot_question_plain": "Stelde {when} een vraag aan de chatbot",
        "journey_last_review": "Schreef {when} een review van {product}",
        "journey_last_social_share": "Deelde {when} {product} op sociale media",
        "journey_last_email_click": "Klikte {when} in een e-mail door naar {product}",
        "journey_last_ordered": "Bestelde {when} {product} {where}",
        "journey_last_bought_in_store": "Kocht {when} {product} in {store}",
        "journey_last_returned": "Retourneerde {when} {product}",
        "journey_last_wrote": "Schreef {when} de klantenservice {where}: {text}",
        "journey_last_other": "Was {when} online actief {where}",
        "journey_stage_inspiration": "Inspiratie",
        "journey_stage_information": "Informatie",
        "journey_stage_planning": "Planning",
        "journey_stage_buying": "Aankoop",
        "journey_stage_service": "Service",
        "journey_stage_sharing": "Delen",
        "journey_why_open_conversation": "open vraag: {subject}",
        "journey_why_returned": "retourneerde {when} {product}",
        "journey_why_reviewed": "schreef een review van {product}",
        "journey_why_shared": "deelde {product}",
        "journey_why_in_cart": "{product} in het winkelmandje, niet besteld",
        "journey_why_ordered": "bestelde {when} {product}",
        "journey_why_wishlisted": "zette {when} {product} op de verlanglijst",
        "journey_why_asked": "vroeg de chatbot naar {product}",
        "journey_why_asked_plain": "stelde een vraag aan de chatbot",
        "journey_why_searched": "zocht naar “{text}”",
        "journey_why_compared": "bekeek deze week {n} {category}, niets gekocht",
        "journey_why_viewed_again": "bekeek {product} deze week {n} keer, niet gekocht",
        "journey_why_browsing": "bekeek deze maand {n} producten",
        "journey_why_browsing_one": "bekeek deze maand 1 product",
        "journey_why_active_online": "deze maand online actief",
        "journey_why_quiet": "niets online in de afgelopen {days} dagen",
        "journey_category_coats": "jassen",
        "journey_category_trousers": "broeken",
        "journey_category_knitwear": "truien",
        "journey_category_sneakers": "paar sneakers",
        "journey_service_first": "Eerst service: {reason}",
    },
}

STATUS = {
    "en": {
        "placed": "Placed",
        "reserved": "Reserved",
        "shipped": "Shipped",
        "delivered": "Delivered",
        "completed": "Completed",
        "cancelled": "Cancelled",
        "partially_returned": "Partly returned",
        "returned": "Returned",
    },
    "nl": {
        "placed": "Geplaatst",
        "reserved": "Gereserveerd",
        "shipped": "Verzonden",
        "delivered": "Bezorgd",
        "completed": "Afgerond",
        "cancelled": "Geannuleerd",
        "partially_returned": "Deels geretourneerd",
        "returned": "Geretourneerd",
    },
}


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["en"])


def tr(lang: str, key: str, **values: object) -> str:
    """The entry `key` in `lang`, filled with `values`; `key_one` where there is one and `n` is 1."""
    table = STRINGS.get(lang, STRINGS["en"])
    if values.get("n") == 1 and f"{key}_one" in table:
        key = f"{key}_one"
    return table.get(key, STRINGS["en"].get(key, key)).format(**values)


def status(lang: str, value: str) -> str:
    return STATUS.get(lang, STATUS["en"]).get(value, value.replace("_", " "))


def _word(lang: str, prefix: str, value: str) -> str:
    """A value the data carries (a colour, a chat author), in words: the table's, else the value as it is."""
    table = STRINGS.get(lang, STRINGS["en"])
    return table.get(f"{prefix}{value.lower().replace(' ', '_')}", value.replace("_", " "))


def colour(lang: str, name: str) -> str:
    """A catalogue colour ("navy", "forest green") in the language."""
    return _word(lang, "colour_", name)


def author(lang: str, who: str) -> str:
    """Who wrote a chat message: the customer, customer service, the chat bot."""
    return _word(lang, "author_", who)


def chat_channel(lang: str, channel: str) -> str:
    """Where a chat took place (web chat, WhatsApp, email …)."""
    return _word(lang, "chat_channel_", channel)


# Dutch surname prefixes (tussenvoegsels): "de Vries" is filed under V, and her initials are SV, not Sd.
NAME_PREFIXES = frozenset(
    {"de", "den", "der", "het", "'t", "te", "ten", "ter", "van", "von", "la", "le", "du", "d'", "in"}
)


def initials(first_name: str, last_name: str) -> str:
    """'Sanne', 'de Vries' -> 'SV': the surname's first word that is not a prefix (de, van der ...) gives its letter."""
    words = last_name.split()
    main = next((w for w in words if w.casefold() not in NAME_PREFIXES), words[-1] if words else "")
    return (first_name.strip()[:1] + main[:1]).upper()


def money(cents: int, lang: str = "en", currency: str = "EUR") -> str:
    """An amount of cents as the language writes money: "€ 1.234,56" (nl), "€1,234.56" (en)."""
    return format_currency(Decimal(cents).scaleb(-2), currency, locale=locale_of(lang))


def number(value: int, lang: str) -> str:
    """A whole number with the language's grouping: 6.220 (nl), 6,220 (en)."""
    return format_decimal(value, format="#,##0", locale=locale_of(lang))


def decimal(value: float, lang: str, places: int = 1) -> str:
    """A number with `places` decimals, as the language writes it: 3,4 (nl), 3.4 (en)."""
    return format_decimal(value, format="#,##0." + "0" * places if places else "#,##0", locale=locale_of(lang))


def ago(lang: str, moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago `moment` was, in words: "zojuist", "5 minuten geleden", "3 hours ago"."""
    if moment is None:
        return "—"
    delta = (now or datetime.now(UTC)) - moment
    if delta.total_seconds() < 60:  # a clock a little ahead of the centre's is "just now" too
        return tr(lang, "just_now")
    return format_timedelta(-delta, add_direction=True, threshold=1.5, locale=locale_of(lang))


def from_system(lang: str, system: str, moment: datetime, now: datetime | None = None) -> str:
    """Where a fact came from and how old it is: "from the webshop, 3 minutes ago"; a system this table does not
    name is said by its own name."""
    key = f"system_{system}"
    named = tr(lang, key) if key in STRINGS[lang] else system
    return tr(lang, "from_system", system=named, ago=ago(lang, moment, now))


def from_systems(lang: str, sources: dict[str, datetime], now: datetime | None = None) -> str:
    """Every system a record came from, the latest first, in one line; empty for what the centre or a store made."""
    latest_first = sorted(sources.items(), key=lambda item: item[1], reverse=True)
    return " · ".join(from_system(lang, system, moment, now) for system, moment in latest_first)


def month_day(lang: str, value: str) -> str:
    """A shared date without its year, as the language writes it: "14 March", "14 maart"."""
    month, day = (int(part) for part in value.split("-"))
    return format_date(date(2000, month, day), "d MMMM", locale=locale_of(lang))  # 2000: 29 February exists


def week_label(lang: str, monday: date) -> str:
    """A week by the day it begins, short: "30 Nov", "30 nov"."""
    return format_date(monday, "d MMM", locale=locale_of(lang)).rstrip(".")


def month(lang: str, moment: datetime) -> str:
    """The month of a moment in the store's time, as the language names it: "October", "oktober"."""
    return format_date(moment.astimezone(LOCAL_TIME).date(), "MMMM", locale=locale_of(lang))


def phone(number: str | None) -> str:
    """A phone number as people write it: a Dutch one the Dutch way ("06 83992408"), any other with its country code
    ("+44 20 7123 4567"); as stored if it cannot be read."""
    if not number:
        return ""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return number
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(parsed, style.NATIONAL if parsed.country_code == 31 else style.INTERNATIONAL)


def local(moment: datetime, *, lang: str, with_time: bool = True) -> str:
    """A moment in the store's time (Europe/Amsterdam), as staff read it in their language."""
    if with_time:
        return format_datetime(moment, "short", tzinfo=LOCAL_TIME, locale=locale_of(lang))
    return format_date(moment.astimezone(LOCAL_TIME).date(), "short", locale=locale_of(lang))


def _shown_param(lang: str, name: str, value: Any) -> Any:
    """A parameter as a sentence shows it: dates in the store's time, statuses and counts in the language."""
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return local(value, lang=lang, with_time=False)
    if isinstance(value, int) and name not in ("line_no", "found", "expected", "serial"):
        return number(value, lang)
    if name == "status" and isinstance(value, str):
        return status(lang, value)
    return value


def error_text(lang: str, code: str | None, params: Mapping[str, Any] | None = None) -> str:
    """An error's code and parameters in words, in `lang`; a code the table lacks gets the general sentence."""
    table = STRINGS.get(lang, STRINGS["en"])
    values = {name: _shown_param(lang, name, value) for name, value in (params or {}).items()}
    if "closed_at" in values:  # a return window's end: the date it closed
        values["date"] = values["closed_at"]
    key = f"error_{code}"
    one = next((n for n in ("tries_left", "minutes_left") if (params or {}).get(n) == 1), None)
    if one and f"{key}_one" in table:
        key = f"{key}_one"
    template = table.get(key)
    if template is None:
        log.info("no words for the error code %r", code)
        return table["error_unknown"]
    wanted = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    if not wanted <= values.keys():
        log.warning("the error code %r came without %s", code, sorted(wanted - values.keys()))
        return table["error_unknown"]
    return template.format(**values)


def explain(lang: str, error: BaseException) -> str:
    """Any error a screen meets, in words: by its code (`DeviceError`, `codes.CodeError`); never its English text."""
    code = getattr(error, "code", None)
    if isinstance(code, str):
        return error_text(lang, code, getattr(error, "params", None))
    return STRINGS.get(lang, STRINGS["en"])["error_unknown"]


def refusal_text(lang: str, answer: Mapping[str, Any] | None) -> str:
    """Why the centre refused a command, from its problem document (`code` and the members that go with it)."""
    document = dict(answer or {})
    code = document.get("code")
    if not isinstance(code, str):
        return STRINGS.get(lang, STRINGS["en"])["error_centre_refused_command"].format(code="?")
    params: dict[str, Any] = {"code": code}
    for name in ("store", "sku", "line_no", "returnable"):
        if name in document:
            params[name] = document[name]
    if isinstance(document.get("lines"), list):
        params["skus"] = ", ".join(str(line.get("sku")) for line in document["lines"] if isinstance(line, dict))
    if isinstance(document.get("window_closed_at"), str):
        try:
            params["date"] = local(datetime.fromisoformat(document["window_closed_at"]), lang=lang, with_time=False)
        except ValueError:
            pass
    if f"error_centre_{code}" in STRINGS.get(lang, STRINGS["en"]):
        worded = error_text(lang, f"centre_{code}", params)
        if worded != STRINGS.get(lang, STRINGS["en"])["error_unknown"]:
            return worded
    return error_text(lang, "centre_refused_command", {"code": code})
