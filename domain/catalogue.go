package domain

import (
	"fmt"
	"regexp"
	"strings"
)

// Reason is one reason a request was refused, as a caller sees it: a stable English code a
// program can act on, the input field at fault (when there is one) and the Russian sentence a
// person reads. Every refusal carries at least one.
type Reason struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// english is the sentence in English, for logs and the problem's detail.
	english string
}

// String is the reason in English, as the logs and the tests read it.
func (r Reason) String() string { return r.english }

// text is one entry of the catalogue: a reason's code and its Russian sentence. The sentence is
// a fmt format over the same arguments as the English one (explicit indexes, %[2]s, pick and
// reorder them); one without a verb ignores them. «{field}» stands for the field's Russian name.
type text struct {
	code, ru string
}

// catalogue is the one list of the reasons the service gives: the English sentence each error
// is made with (its format, as written where the error is made) → its code and Russian text.
// TestCatalogueCoversEveryReason reads the program's source and fails on an error made with a
// sentence this list lacks.
var catalogue = map[string]text{
	// Input, field by field.
	"is required":                    {"required", "Заполните поле «{field}»"},
	"is longer than %d characters":   {"too_long", "«{field}»: не длиннее %d символов"},
	"is longer than 200 characters":  {"too_long", "«{field}»: не длиннее 200 символов"},
	"is longer than 100 characters":  {"too_long", "«{field}»: не длиннее 100 символов"},
	"is longer than 2000 characters": {"too_long", "«{field}»: не длиннее 2000 символов"},
	"is too long":                    {"too_long", "«{field}»: слишком длинное значение"},
	"must be one of %s, got %q":      {"not_one_of", "«{field}»: выберите значение из списка"},
	"must be a UUID":                 {"not_an_id", "«{field}»: неверный идентификатор"},
	"must be a user id (UUID)":       {"not_an_id", "«{field}»: выберите сотрудника из списка"},
	"must be a case id (UUID)":       {"not_an_id", "«{field}»: неверный идентификатор дела"},
	"must be a past date after 1900": {"date_out_of_range", "«{field}»: дата должна быть в прошлом и не раньше 1900 года"},
	"at most 20 contacts":            {"too_many", "Не больше 20 контактов"},
	"at most 50":                     {"too_many", "«{field}»: не больше 50"},
	"is required when the applicant is legally incapacitated": {"required_if_incapacitated", "Для недееспособного заявителя укажите орган опеки"},
	"is not a phone number":                                   {"not_a_phone", "«{field}»: это не номер телефона"},
	"is not an e-mail address":                                {"not_an_email", "«{field}»: это не адрес электронной почты"},
	"is required when the preferred channel is sms":           {"required_for_sms", "Для уведомлений по SMS укажите телефон"},
	"is required when the preferred channel is email":         {"required_for_email", "Для уведомлений по электронной почте укажите адрес"},
	"must be 11 digits, as XXX-XXX-XXX YY":                    {"snils_format", "СНИЛС: 11 цифр, в виде 123-456-789 01"},
	"checksum does not match (expected %02d)":                 {"snils_checksum", "СНИЛС: контрольное число не сходится — проверьте цифры"},
	"must be between 1 and 3650":                              {"out_of_range", "«{field}»: от 1 до 3650"},
	"must be between 0 and 720":                               {"out_of_range", "«{field}»: от 0 до 720"},
	"must be between 0 and 100000":                            {"out_of_range", "«{field}»: от 0 до 100 000"},
	"must be between 1 and 200":                               {"out_of_range", "«{field}»: от 1 до 200"},
	"must be between 1 and 500":                               {"out_of_range", "«{field}»: от 1 до 500"},
	"must be between 1 and 1000":                              {"out_of_range", "«{field}»: от 1 до 1000"},
	"must be at least 16 characters":                          {"too_short", "«{field}»: не короче 16 символов"},
	"%q is not a happening; known: %s":                        {"unknown_happening", "«{field}»: неизвестное событие для подписки"},
	"only a facility agency runs boarding houses":             {"facilities_of_facility_agency", "Учреждения закрепляются только за организацией-учреждением"},
	"must be an http(s) URL":                                  {"webhook_url_scheme", "Адрес вебхука должен начинаться с http:// или https://"},
	"points to a loopback, private or link-local address; a webhook must be reachable on the internet (WEBHOOK_ALLOW_PRIVATE=true allows it in development)": {"webhook_url_internal", "Адрес вебхука ведёт во внутреннюю сеть: нужен адрес, доступный из интернета"},
	"a service center files applications with channel mfc": {"mfc_channel", "Заявление от МФЦ подаётся с каналом «МФЦ»"},
	"is set by the center, not by a partner agency":        {"assignee_by_center", "Ответственного специалиста назначает центр"},
	"unknown state %q":                               {"unknown_state", "Неизвестное состояние дела"},
	"unknown event %q; known events: %s":             {"unknown_event", "Неизвестное действие"},
	"comment and reason are at most 2000 characters": {"too_long", "Комментарий и причина — не длиннее 2000 символов"},
	"unknown document type %q":                       {"unknown_document", "Неизвестный вид документа"},
	"is before from":                                 {"range_reversed", "Конец периода раньше начала"},
	"cannot be in the future":                        {"date_in_future", "«{field}»: дата не может быть в будущем"},
	"is before issued_on":                            {"valid_until_before_issued_on", "Срок действия документа кончается раньше даты выдачи"},
	"is required for a received %s: it expires %d months after issue":        {"issued_on_required", "Укажите дату выдачи: документ действует %[2]d мес. с даты выдачи"},
	"must look like KC-2025-000123":                                          {"case_number_format", "Номер дела записывается так: KC-2026-000123"},
	"is not a cursor this server gave out":                                   {"bad_cursor", "Ссылка на страницу списка устарела: откройте список заново"},
	"must be a date (2025-01-31) or a date-time (2025-01-31T10:00:00+03:00)": {"not_a_date", "«{field}»: дата в виде 2025-01-31"},
	"must be %s":                           {"wrong_type", "«{field}»: значение не того вида"},
	"is not valid JSON: %v":                {"bad_json", "Запрос повреждён: это не JSON"},
	"is not a known field":                 {"unknown_field", "В запросе лишнее поле"},
	"is empty":                             {"empty_body", "Запрос пуст"},
	"%v":                                   {"bad_request", "«{field}»: значение не подходит"},
	"%s":                                   {"bad_request", "«{field}»: значение не подходит"},
	"holds more than one JSON value":       {"bad_json", "Запрос повреждён: в нём больше одного значения"},
	"must be a case version such as \"3\"": {"bad_version", "Версия дела передана неверно: обновите страницу"},
	"must be true or false":                {"not_a_boolean", "«{field}»: да или нет"},
	"must be a whole number":               {"not_a_number", "«{field}»: целое число"},
	"cannot read the body: %v":             {"unreadable_body", "Запрос не дочитан: попробуйте ещё раз"},
	"holds a NUL character or bytes that are not UTF-8":                       {"bad_text", "«{field}»: в тексте недопустимые символы"},
	"is larger than %d bytes":                                                 {"too_large", "Запрос слишком велик"},
	"is required: send the case version (its ETag)":                           {"version_required", "Не передана версия дела: обновите страницу"},
	"a weak tag never matches: send the ETag as the case gave it":             {"bad_version", "Версия дела передана неверно: обновите страницу"},
	"this method is not allowed here; Allow lists those that are":             {"method_not_allowed", "Такой запрос здесь не поддерживается"},
	"want a positive number of cases":                                         {"out_of_range", "Нужно положительное число дел"},
	"the generated period must span at least a year":                          {"out_of_range", "Период — не меньше года"},
	"year %d would get more than 999,999 case numbers":                        {"out_of_range", "В %d году получилось бы больше 999 999 номеров"},
	"%q is not type=months":                                                   {"bad_setting", "Настройка DOCUMENT_VALIDITY_MONTHS записана неверно"},
	"%q is not a whole number of months":                                      {"bad_setting", "Настройка DOCUMENT_VALIDITY_MONTHS записана неверно"},
	"%s: months must be 1..120":                                               {"bad_setting", "Настройка DOCUMENT_VALIDITY_MONTHS: от 1 до 120 месяцев"},
	"%q: want FROM-TO in whole hours, such as 21-09":                          {"bad_setting", "Настройка SMS_QUIET_HOURS записана неверно (пример: 21-09)"},
	"%s has %d beds taken by residents and vouchers: capacity cannot be less": {"capacity_below_taken", "В учреждении «%[1]s» занято мест: %[2]d — вместимость не может быть меньше"},

	// Finding things.
	"no case matches this number and access code; the center's phone is %s": {"status_not_found",
		"Дело не найдено. Проверьте номер дела и код доступа: они указаны в уведомлении о регистрации заявления. Если код потерян, позвоните в координационный центр: %s — специалист выдаст новый"},
	"case %s not found":             {"case_not_found", "Дело не найдено"},
	"user %s not found":             {"user_not_found", "Сотрудник не найден"},
	"user %s not found or disabled": {"user_not_found", "Сотрудник не найден или отключён"},
	"agency %s not found":           {"agency_not_found", "Организация не найдена"},
	"facility %s not found":         {"facility_not_found", "Учреждение не найдено"},
	"notice %s not found":           {"notice_not_found", "Уведомление не найдено"},
	"%s %s not found":               {"not_found", "Не найдено"},
	"not found":                     {"not_found", "Не найдено"},
	"no such route":                 {"no_such_route", "Такой страницы нет"},
	"no such file":                  {"no_such_file", "Такого файла нет"},
	"no such credential":            {"no_such_credential", "Ключ доступа не найден"},

	// Who may do what.
	"the bearer token is not valid":              {"token_invalid", "Токен не принят: он неверен, истёк или отозван"},
	"send Authorization: Bearer <token>":         {"token_required", "Войдите: нужен токен доступа"},
	"send Authorization: Bearer <METRICS_TOKEN>": {"token_required", "Нужен токен доступа к метрикам"},
	"sign in with your token as the password":    {"token_required", "Войдите: введите токен вместо пароля"},
	"role %s may not do %s":                      {"not_permitted", "Вашей роли это действие недоступно"},
	"role %s may not fire %s":                    {"not_permitted", "Вашей роли это действие с делом недоступно"},
	"role %s may not record documents":           {"not_permitted", "Вашей роли отметки о документах недоступны"},
	"a specialist sees the deadlines of their own cases; a supervisor sees everyone's": {"not_permitted", "Специалист видит сроки только своих дел; сроки всех дел видит руководитель"},
	"a cross-origin request may not change the queues":                                 {"cross_origin", "Запрос с другого сайта не может менять очереди"},

	// The case's state and version.
	"event %s is not allowed in state %s; allowed: %s":                                {"event_not_allowed", "Это действие недоступно в текущем состоянии дела"},
	"event %s was refused":                                                            {"event_refused", "Действие не выполнено"},
	"case %s is %s: its documents can no longer change":                               {"documents_closed", "Документы дела %[1]s больше нельзя менять"},
	"case %s was changed by someone else meanwhile (version %d is no longer current)": {"version_conflict", "Дело %[1]s тем временем изменил другой сотрудник: обновите страницу"},
	"case %s is at version %d, not %d: reload it and try again":                       {"version_conflict", "Дело %[1]s изменилось, пока вы его смотрели: обновите страницу и повторите"},
	"notice %s is %s: only a pending, failed or dead notice can be retried":           {"notice_not_retryable", "Повторить можно только неотправленное уведомление"},
	"user %s does not exist":                                                          {"user_not_found", "Такого сотрудника нет"},
	"%s cannot take cases: only enabled specialists and supervisors can":              {"cannot_take_cases", "%[1]s не может вести дела: их ведут действующие специалисты и руководители"},
	"facility %s does not exist or already belongs to an agency":                      {"facility_taken", "Учреждение не найдено или уже закреплено за другой организацией"},
	"%s refers to something that does not exist (%s)":                                 {"dangling_reference", "Ссылка на несуществующую запись"},
	"%s already exists (%s)":                                                          {"already_exists", "Такая запись уже есть"},
	"%s breaks rule %s":                                                               {"rule_broken", "Данные не прошли проверку"},
	"too many failed lookups; try again later or call the center at %s": {"too_many_lookups",
		"Слишком много неудачных попыток с этого устройства. Повторите позже или позвоните в координационный центр: %s"},
	"not ready: %s unreachable": {"not_ready", "Сервис временно недоступен"},
	"something went wrong on our side; the request id identifies it in our logs": {"internal", "Ошибка на сервере. Сообщите номер запроса администратору"},

	// A guard's refusals (the event's conditions).
	"a reason is required":               {"reason_required", "Укажите причину"},
	"ippsu_number is required":           {"ippsu_number_required", "Укажите номер ИППСУ"},
	"ippsu_date is required":             {"ippsu_date_required", "Укажите дату ИППСУ"},
	"ippsu_date cannot be in the future": {"ippsu_date_in_future", "Дата ИППСУ не может быть в будущем"},
	// The law's loose ends (law.go).
	"the grounds of the appeal are required":                         {"appeal_grounds_required", "Укажите основания жалобы"},
	"filed_on is required":                                           {"filed_on_required", "Укажите дату подачи жалобы"},
	"filed_on cannot be in the future":                               {"filed_on_in_future", "Дата подачи жалобы не может быть в будущем"},
	"filed_on cannot be before the refusal":                          {"filed_on_before_refusal", "Жалоба не может быть подана раньше отказа"},
	"the new programme must be dated after the one it replaces (%s)": {"ippsu_not_newer", "Новая ИППСУ должна быть датирована позже прежней (%s)"},
	"say how the consent to notices was given":                       {"consent_source_required", "Укажите, как получено согласие на уведомления"},
	"must be a date, today or earlier":                               {"date_not_past", "«{field}»: дата не позже сегодняшнего дня"},
	"the type of home can change only before the waiting list":       {"facility_type_fixed", "Тип учреждения можно изменить только до постановки в очередь"},
	"relative %s not found":                                          {"contact_not_found", "Такого контакта в деле нет"},
	"case %s has no contact number %d":                               {"contact_not_found", "В деле %[1]s нет такого контакта"},
	"case %s is %s: its facts can no longer change":                  {"case_closed", "Дело %[1]s закрыто: сведения в нём больше не меняются"},
	"this SNILS is already on an open case: %s":                      {"snils_on_open_case", "Этот СНИЛС уже есть в открытом деле: %s. Проверьте, не повторное ли это заявление"},
	"contract_number is required":                                    {"contract_number_required", "Укажите номер договора"},
	"signed_on cannot be in the future":                              {"signed_on_in_future", "Дата договора не может быть в будущем"},
	"a contract is already recorded for this voucher (%s)":           {"contract_recorded", "Договор по этой путёвке уже записан (№ %s)"},
	"facility_id is required":                                        {"facility_required", "Выберите учреждение"},
	"facility %s does not exist":                                     {"facility_not_found", "Такого учреждения нет"},
	"facility %s is of type %s, the case needs %s":                   {"facility_wrong_type", "«%[1]s» — учреждение другого типа, чем нужен по делу"},
	"the person already lives in %s":                                 {"already_lives_there", "Человек уже живёт в «%[1]s»"},
	"valid_until must be after today":                                {"valid_until_not_after_today", "Срок действия путёвки должен быть позже сегодняшнего дня"},
	"admitted_on cannot be in the future":                            {"admitted_on_in_future", "Дата поступления не может быть в будущем"},
	"the voucher expired on %s":                                      {"voucher_expired", "Срок действия путёвки истёк %[1]s"},
	"return_by is required":                                          {"return_by_required", "Укажите планируемую дату возвращения"},
	"return_by must be within the next %d days":                      {"return_by_out_of_range", "Дата возвращения — в ближайшие %d дней"},
	"date_of_death is required":                                      {"date_of_death_required", "Укажите дату смерти"},
	"date_of_death cannot be in the future":                          {"date_of_death_in_future", "Дата смерти не может быть в будущем"},
	"document %s is not required for this case: it may not be requested": {"document_not_required",
		"Этот документ для дела не обязателен: требовать его нельзя"},
	"the facility has no free bed": {"no_free_bed", "В учреждении нет свободных мест"},
	"the person lives in a boarding house and a transfer is under way: cancel the voucher, then discharge": {"transfer_under_way", "Идёт перевод в другое учреждение: сначала аннулируйте путёвку, затем оформите выбытие"},

	// The hotline's desk: contacts, call-backs, contact requests, outreach leads.
	"must be open":                                                     {"not_one_of", "«{field}»: допустимы только открытые"},
	"must be open or done":                                             {"not_one_of", "«{field}»: выберите «открытые» или «выполненные»"},
	"is longer than 4000 characters":                                   {"too_long", "«{field}»: не длиннее 4000 символов"},
	"is in the past":                                                   {"date_in_past", "«{field}»: дата уже прошла"},
	"is in the future":                                                 {"date_in_future", "«{field}»: дата не может быть в будущем"},
	"is more than a year ahead":                                        {"date_too_far", "«{field}»: не дальше чем через год"},
	"must be a contact id (UUID)":                                      {"not_an_id", "«{field}»: неверный идентификатор обращения"},
	"case %s: the person does not live in a home (%s)":                 {"not_residing", "Связаться можно только с человеком, который живёт в учреждении"},
	"the person does not live in a home yet":                           {"not_residing", "Связаться можно, когда человек уже живёт в учреждении"},
	"contact request %s not found":                                     {"contact_request_not_found", "Просьба о связи не найдена"},
	"contact request %s is already done (%s)":                          {"contact_request_done", "Эта просьба о связи уже выполнена"},
	"contact request %s is already done":                               {"contact_request_done", "Эта просьба о связи уже выполнена"},
	"case %s already has an open contact request from the status page": {"contact_request_open", "Просьба о связи по этому заявлению уже передана в учреждение и ждёт ответа; новую можно отправить, когда придёт ответ"},
	"must not carry a user name or password: the webhook secret signs each delivery": {"webhook_url_userinfo", "В адресе вебхука не должно быть имени и пароля: подлинность подтверждает подпись"},
	"has port %s; a port is between 1 and 65535":                                     {"webhook_url_port", "«{field}»: номер порта — от 1 до 65535"},
	"starts with whsec_ but the rest is not base64":                                  {"webhook_secret_format", "«{field}»: секрет в стандартном виде записан с ошибкой — проверьте ключ"},
	"after whsec_ encodes %d bytes; the key must be at least %d bytes":               {"webhook_secret_short", "«{field}»: ключ слишком короткий — нужно не меньше %[2]d байт"},
	"must be at least %d characters":                                                 {"too_short", "«{field}»: не короче %d символов"},
	"contact %s not found":                                                           {"contact_not_found", "Обращение не найдено"},
	"who_helps is at most 500 characters, asks at most 2000":                         {"too_long", "«Кто помогает» — не длиннее 500 символов, «Просьба» — не длиннее 2000"},
	"lead %s not found":                                                              {"lead_not_found", "Анкета обхода не найдена"},
	"lead %s is %s":                                                                  {"lead_closed", "С этой анкетой уже работали"},
	"must be contacted or declined":                                                  {"not_one_of", "«{field}»: «связались» или «отказ»"},
	"is not a phone number (for example 8 916 123-45-67 or +7 916 123-45-67)":        {"not_a_phone", "«{field}»: это не номер телефона (например, 8 916 123-45-67)"},
	"a %s files applications with channel %s":                                        {"agency_channel", "Эта организация подаёт заявления только по своему каналу"},
	"is not a cursor this list gave":                                                 {"bad_cursor", "Ссылка на страницу списка устарела: откройте список заново"},

	// Homes, beds by section, the waiting list and offers.
	"must be 1 to 300 characters":          {"length_out_of_range", "«{field}»: от 1 до 300 символов"},
	"must be 1 to 200 characters":          {"length_out_of_range", "«{field}»: от 1 до 200 символов"},
	"must be at most 200 characters":       {"too_long", "«{field}»: не длиннее 200 символов"},
	"must be at most 500 characters":       {"too_long", "«{field}»: не длиннее 500 символов"},
	"must be at most 50 characters":        {"too_long", "«{field}»: не длиннее 50 символов"},
	"must be at most 2000 characters":      {"too_long", "«{field}»: не длиннее 2000 символов"},
	"a home has 1 to 50 sections":          {"sections_count", "В учреждении от 1 до 50 отделений"},
	"must be 1 to 32 of a-z, 0-9, _ and -": {"section_code_format", "«{field}»: от 1 до 32 строчных латинских букв, цифр, знаков _ и -"},
	"section %s is given twice":            {"section_twice", "Отделение %[1]s указано дважды"},
	"section %s (%s) has %d beds occupied or reserved: capacity cannot be %d": {"section_capacity_below_used",
		"В отделении «%[2]s» занято или забронировано мест: %[3]d — вместимость не может быть %[4]d"},
	"section %s (%s) has %d beds occupied or reserved: it cannot be removed": {"section_in_use",
		"В отделении «%[2]s» занято или забронировано мест: %[3]d — удалить его нельзя"},
	"give the sections' capacities (or capacity alone for a home with one section)": {"capacity_required",
		"Укажите вместимость каждого отделения (или одну вместимость, если отделение одно)"},
	"%s has %d sections: report each one's capacity": {"capacity_per_section", "В учреждении «%[1]s» отделений: %[2]d — укажите вместимость каждого"},
	"%s has no section %q":                           {"section_not_found", "В учреждении «%[1]s» нет отделения %[2]q"},
	"agency %s is not a facility agency":             {"not_a_facility_agency", "Отчитываться за учреждение может только организация-учреждение"},
	"facility %s is at version %d, not %d: reload it and try again": {"version_conflict",
		"Учреждение «%[1]s» изменилось, пока вы его смотрели: обновите страницу и повторите"},
	"no free bed":                            {"no_free_bed", "Свободных мест нет"},
	"%s does not take residents now":         {"facility_inactive", "Учреждение «%[1]s» сейчас не принимает"},
	"%s has no free bed in a section for %s": {"no_free_bed_in_section", "В учреждении «%[1]s» нет свободного места в подходящем отделении"},
	"%s is not first on the list for %s (before it: %s): give skip_reason": {"skip_reason_required",
		"Дело %[1]s не первое в очереди в «%[2]s» (раньше него: %[3]s) — укажите, почему очередь пропускается"},
	"must be 1 to 40 of a-z, 0-9 and _":                 {"priority_code_format", "«{field}»: от 1 до 40 строчных латинских букв, цифр и знаков _"},
	"give a type of home or a home (facility_id)":       {"facility_type_required", "Выберите тип учреждения или само учреждение"},
	"must be a priority category's code":                {"not_a_priority", "«{field}»: выберите категорию очерёдности из списка"},
	"priority %s does not exist":                        {"priority_not_found", "Такой категории очерёдности нет"},
	"at most 20 districts and 20 homes":                 {"too_many", "Не больше 20 районов и 20 учреждений"},
	"must be a home's id":                               {"not_an_id", "«{field}»: выберите учреждение из списка"},
	"the placement of a case in state %s cannot change": {"placement_closed", "В текущем состоянии дела очерёдность и пожелания менять нельзя"},
	"must be one of the decline reasons":                {"not_one_of", "«{field}»: выберите причину отказа из списка"},
	"say why (the reason is %s)":                        {"note_required", "Поясните отказ (причина: «%[1]s»)"},
	"offer %s not found":                                {"offer_not_found", "Предложение места не найдено"},
	"offer %s is %s, no longer open":                    {"offer_closed", "На это предложение места уже ответили или оно истекло"},
	"offer %s was answered meanwhile":                   {"offer_closed", "На это предложение места тем временем уже ответили"},

	// The center's figures (issue 19).
	"must be a date (YYYY-MM-DD)":        {"not_a_date", "«{field}»: дата в виде 2025-01-31"},
	"must be a day from 2000 to 2100":    {"date_out_of_range", "«{field}»: дата с 2000 по 2100 год"},
	"must not be before from":            {"period_reversed", "Конец периода раньше его начала"},
	"the period is longer than 800 days": {"period_too_long", "Период длиннее 800 дней"},
	"must be one of the reports: %s":     {"not_one_of", "«{field}»: выберите отчёт из списка"},

	// The database for a moment.
	"the database is unavailable for a moment; send the request again": {"unavailable", "Сервис на минуту недоступен: повторите запрос"},
}

// fieldNames are the Russian names of the input fields, as errors name them (an index such as
// contacts[2] or contacts.2 is left out).
var fieldNames = map[string]string{
	"applicant.full_name": "ФИО заявителя", "applicant.birth_date": "Дата рождения", "applicant.gender": "Пол",
	"applicant.snils": "СНИЛС", "applicant.passport": "Паспорт", "applicant.address": "Адрес",
	"applicant.legal_capacity": "Дееспособность", "applicant.disability_group": "Группа инвалидности",
	"applicant": "Заявитель", "facility_type": "Тип учреждения", "channel": "Канал обращения",
	"guardianship_id": "Орган опеки", "health_org_id": "Медицинская организация", "contacts": "Контакты",
	"contacts.full_name": "ФИО контакта", "contacts.relation": "Кем приходится", "contacts.phone": "Телефон",
	"contacts.email": "Электронная почта", "contacts.notify_by": "Способ уведомления", "assignee_id": "Специалист",
	"assignee": "Специалист", "case_number": "Номер дела", "access_code": "Код доступа", "event": "Действие",
	"comment": "Комментарий", "reason": "Причина", "type": "Документ", "status": "Статус", "note": "Примечание",
	"issued_on": "Дата выдачи", "valid_until": "Действителен до", "q": "Поиск", "state": "Состояние",
	"limit": "Число строк", "cursor": "Страница", "overdue": "Просроченные", "email": "Электронная почта",
	"phone": "Телефон", "name": "Имя", "role": "Роль", "expires_in_days": "Срок действия токена (дней)",
	"grace_hours": "Часы действия прежнего ключа", "capacity": "Вместимость", "facility_ids": "Учреждения",
	"webhook.url": "Адрес вебхука", "webhook.secret": "Секрет вебхука", "webhook.happenings": "События вебхука",
	"from": "С", "to": "По", "case": "Дело", "actor": "Кто", "body": "Запрос", "If-Match": "Версия дела",
	"ippsu_number": "Номер ИППСУ", "ippsu_date": "Дата ИППСУ", "facility_id": "Учреждение",
	"admitted_on": "Дата поступления", "return_by": "Дата возвращения", "date_of_death": "Дата смерти",
	"district": "Район", "address": "Адрес", "agency_id": "Организация", "sections": "Отделения",
	"sections.code": "Код отделения", "sections.title": "Название отделения", "sections.capacity": "Вместимость отделения",
	"sections.sex": "Пол в отделении", "placement": "Очерёдность и пожелания", "placement.priority": "Категория очерёдности",
	"placement.districts": "Районы", "placement.facility_ids": "Учреждения", "code": "Код", "rank": "Порядок",
	"title": "Название", "skip_reason": "Причина пропуска очереди", "facility_name": "Учреждение",
	"report":  "Отчёт",
	"grounds": "Основания жалобы", "filed_on": "Дата подачи жалобы", "contract_number": "Номер договора",
	"signed_on": "Дата договора", "decision_with_ippsu": "ИППСУ вместе с решением",
	"contact": "Контакт", "contact.name": "ФИО контакта", "contact.relation": "Кем приходится", "contact.phone": "Телефон",
	"contact.email": "Электронная почта", "contact.preferred_channel": "Способ уведомления",
	"contact.consent_source": "Как получено согласие", "contact.consent_on": "Дата согласия",
	"contacts.consent_source": "Как получено согласие", "contacts.consent_on": "Дата согласия",
	"legal_capacity": "Дееспособность", "disability_group": "Группа инвалидности",
}

var fieldIndex = regexp.MustCompile(`\[\d+\]|\.\d+`)

// FieldName is the Russian name of an input field; "поле" for one the list lacks.
func FieldName(field string) string {
	if n, ok := fieldNames[fieldIndex.ReplaceAllString(field, "")]; ok {
		return n
	}
	return "поле"
}

// because makes the reason for a sentence of the catalogue (format, args as fmt takes them).
// A sentence the catalogue lacks (the test forbids it) gets the generic code of its kind.
func because(field, format string, args ...any) Reason {
	english := fmt.Sprintf(format, args...)
	t, ok := catalogue[format]
	if !ok {
		t = text{"unlisted", "Запрос не выполнен"}
	}
	ru := t.ru
	if strings.Contains(ru, "%") {
		ru = fmt.Sprintf(ru, args...)
	}
	ru = strings.ReplaceAll(ru, "{field}", FieldName(field))
	return Reason{Code: t.code, Field: field, Message: ru, english: english}
}

// ReasonsOf is what a refusal says to its caller: its reasons, or for an error made without
// any (an *Error built by hand) one reason from its code.
func ReasonsOf(e *Error) []Reason {
	if len(e.Reasons) > 0 {
		return e.Reasons
	}
	return []Reason{{Code: e.Code, Field: e.Field, Message: codeTexts[e.Code], english: e.Message}}
}

// codeTexts says in Russian what each error code means, for an error without a reason.
var codeTexts = map[string]string{
	EINVALID: "Запрос не принят: проверьте данные", ENOTFOUND: "Не найдено",
	ECONFLICT: "Действие недоступно в текущем состоянии", ESTALE: "Дело изменилось: обновите страницу",
	EUNPROCESSABLE: "Условия действия не соблюдены", EUNAUTHORIZED: "Нужен действующий токен доступа",
	EFORBIDDEN: "Недостаточно прав", ERATELIMIT: "Слишком много запросов", EUNAVAILABLE: "Сервис временно недоступен",
	EINTERNAL: "Ошибка на сервере", ETOOLARGE: "Запрос слишком велик", EPRECONDITION: "Не передана версия дела",
}

// deliveryProblems says in Russian why a notice was not delivered, by what the channel's error
// says (jobs/email.go, sms.go, webhook.go); the first entry found in the error wins.
var deliveryProblems = []struct{ has, ru string }{
	{"SMTP_ADDR is not configured", "Отправка электронной почты не настроена на сервере"},
	{"SMS_GATEWAY_URL is not configured", "Отправка SMS не настроена на сервере"},
	{"the recipient has no e-mail address", "У получателя нет адреса электронной почты"},
	{"e-mail address", "Адрес электронной почты получателя неверен"},
	{"SMS gateway answered", "SMS-шлюз отклонил сообщение"},
	{"SMS gateway", "SMS-шлюз недоступен"},
	{"smtp", "Почтовый сервер недоступен или отклонил письмо"},
	{"SMTP_ADDR", "Адрес почтового сервера в настройках неверен"},
	{"the agency has no webhook URL", "У организации не указан адрес вебхука"},
	{"link-local address", "Адрес вебхука ведёт во внутреннюю сеть"},
	{"webhook answered", "Получатель вебхука ответил ошибкой"},
	{"webhook", "Вебхук не доставлен: адрес недоступен"},
}

// DeliveryProblem is why a notice was not delivered, in Russian; "" when it has no error.
func DeliveryProblem(lastError string) string {
	if lastError == "" {
		return ""
	}
	for _, p := range deliveryProblems {
		if strings.Contains(lastError, p.has) {
			return p.ru
		}
	}
	return "Не доставлено: ошибка канала доставки"
}

// statsWords are the figures' words (reports, channels, stages, outcomes), by "group.code".
var statsWords = map[string]string{
	"report.applications": "Заявления", "report.cases_by_state": "Дела по состояниям", "report.stages": "Длительность этапов",
	"report.deadlines": "Сроки по закону", "report.missed_deadlines": "Нарушенные сроки", "report.waiting_list": "Очередь",
	"report.offers": "Предложения мест", "report.occupancy": "Заполненность", "report.contacts": "Обращения",
	"report.follow_ups": "Обратные звонки", "report.leads": "Обследования", "report.status_lookups": "Запросы статуса",
	"report.notices": "Уведомления",

	"channel.mfc": "МФЦ", "channel.hotline": "Горячая линия", "channel.online": "Онлайн", "channel.post_office": "Почта",
	"channel.outreach": "Выездное обследование",

	"stage.document_collection": "Сбор документов", "stage.review": "Рассмотрение заявления",
	"stage.waiting": "Ожидание путёвки", "stage.voucher_to_admission": "От путёвки до поступления",

	"facility_type.elderly_disabled":   "Дом-интернат для престарелых и инвалидов",
	"facility_type.psychoneurological": "Психоневрологический интернат", "facility_type.veterans": "Дом ветеранов",

	"priority.out_of_turn": "Внеочередное право", "priority.first_turn": "Первоочередное право",
	"priority.urgent_social": "Неотложный социальный случай", "priority.general": "Общая очередь",

	"offer.made": "Предложено", "offer.accepted": "Принято", "offer.declined": "Отказ", "offer.expired": "Истекло без ответа",
	"offer.withdrawn": "Отозвано", "offer.open": "Ждёт ответа",
	"decline.applicant_refused": "Заявитель отказался от учреждения", "decline.health_changed": "Изменилось состояние здоровья",
	"decline.home_refused": "Учреждение отказало в приёме", "decline.unreachable": "Не удалось связаться с заявителем",
	"decline.other": "Другое",

	"total.vouchers": "Выдано путёвок из очереди", "total.median_wait_days": "Медиана ожидания от признания до путёвки, дней",
	"total.notice_median_seconds": "Медиана от записи до доставки, секунд",

	"stale.yes": "да", "stale.no": "нет",
	"lead.new": "новая", "lead.contacted": "связались", "lead.declined": "отказ", "lead.converting": "оформляется",
	"lead.converted":  "заведено дело",
	"lookup.answered": "Ответ дан", "lookup.refused": "Неверный номер или код", "lookup.locked": "Временно заблокирован",

	"notice_channel.sms": "СМС", "notice_channel.email": "Электронная почта", "notice_channel.webhook": "Вебхук",
	"audience.relative": "Родственник", "audience.representative": "Законный представитель", "audience.guardianship": "Орган опеки",
	"audience.health": "Медицинская организация", "audience.facility": "Учреждение", "audience.specialist": "Специалист",
	"audience.supervisor": "Руководитель",
}
