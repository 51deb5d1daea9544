package demo

import (
	"context"
	"fmt"

	"carepath/domain"
	"carepath/store"
)

// seedPlacement completes the placement pages' demo (issue 17): the beds the demo's discharges
// and deaths freed were offered to the first eligible waiting cases; one such offer is declined
// by the applicant, so the offers inbox shows a refusal with its reason, the case's panel its
// refusal count, and the bed passes on to the next case, whose offer stays waiting for an
// answer. Running it again changes nothing: it acts only while no offer was declined.
func seedPlacement(ctx context.Context, db *store.DB, svc *domain.Service, actor domain.Actor) error {
	g := db.Gorm.WithContext(ctx)
	var declined int64
	if err := g.Raw("SELECT count(*) FROM offers WHERE state = 'declined'").Scan(&declined).Error; err != nil {
		return fmt.Errorf("seed placement: %w", err)
	}
	if declined > 0 {
		return nil
	}
	var offerID string
	if err := g.Raw("SELECT id::text FROM offers WHERE state = 'proposed' ORDER BY proposed_at, id LIMIT 1").Scan(&offerID).Error; err != nil {
		return fmt.Errorf("seed placement: %w", err)
	}
	if offerID == "" {
		return nil
	}
	if _, err := svc.DeclineOffer(ctx, actor, offerID, domain.OfferDecline{Reason: "applicant_refused"}); err != nil {
		return fmt.Errorf("seed placement: decline offer %s: %w", offerID, err)
	}
	return nil
}
